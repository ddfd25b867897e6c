"""The cryo-metric command line on CSV files and on copick projects."""

import json
import subprocess
import sys

import numpy as np
import polars as pl
import pytest
from cryo_metric.cli import main


def _sol():
    return pl.DataFrame(
        {
            "experiment": ["TS_1", "TS_1", "TS_2"],
            "particle_type": ["ribosome", "apo-ferritin", "thyroglobulin"],
            "x": [1000.0, 2000.0, 3000.0],
            "y": [1000.0, 2000.0, 3000.0],
            "z": [500.0, 500.0, 500.0],
        }
    )


def test_cli_csv_json(tmp_path, capsys):
    _sol().write_csv(tmp_path / "sol.csv")
    sub = _sol().with_row_index("id").with_columns(pl.col("x") + 40.0)  # apo-ferritin now misses (40 > 30)
    sub.write_csv(tmp_path / "sub.csv")
    assert main(["score", "--project", str(tmp_path / "sol.csv"), str(tmp_path / "sub.csv"), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["per_class"]["apo-ferritin"] == {
        "tp": 0,
        "fp": 1,
        "fn": 1,
        "precision": 0.0,
        "recall": 0.0,
        "fbeta": 0.0,
        "weight": 1.0,
    }
    assert out["per_class"]["thyroglobulin"]["tp"] == 1
    assert out["score"] == pytest.approx((1 * 1 + 2 * 1) / 7)


def test_cli_table_and_errors(tmp_path, capsys):
    _sol().write_csv(tmp_path / "sol.csv")
    _sol().with_columns(particle_type=pl.lit("proteasome")).write_csv(tmp_path / "bad.csv")
    assert main(["score", "--project", str(tmp_path / "sol.csv"), str(tmp_path / "sol.csv")]) == 0
    assert "score (F4, kaggle matching): 0.571429" in capsys.readouterr().out
    assert main(["score", "--project", str(tmp_path / "sol.csv"), str(tmp_path / "bad.csv")]) == 2
    assert "proteasome" in capsys.readouterr().err
    assert main(["score", "--project", str(tmp_path / "sol.csv"), str(tmp_path / "missing.csv")]) == 2
    assert "missing.csv" in capsys.readouterr().err


def test_cli_entry_point_runs(tmp_path):
    _sol().write_csv(tmp_path / "sol.csv")
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "cryo_metric.cli",
            "score",
            "--project",
            str(tmp_path / "sol.csv"),
            str(tmp_path / "sol.csv"),
            "--json",
        ],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["score"] == pytest.approx(4 / 7)


def _copick_project(tmp_path, name, picks_by_user):
    copick = pytest.importorskip("copick")
    objs = [
        {"name": n, "is_particle": True, "label": i + 1, "radius": r, "pdb_id": "x"}
        for i, (n, r) in enumerate(
            [
                ("apo-ferritin", 60),
                ("beta-amylase", 65),
                ("beta-galactosidase", 90),
                ("ribosome", 150),
                ("thyroglobulin", 130),
                ("virus-like-particle", 135),
            ]
        )
    ]
    cfg = {
        "name": "t",
        "version": "1.0.0",
        "config_type": "filesystem",
        "pickable_objects": objs,
        "overlay_root": "local://" + str(tmp_path / name / "overlay"),
        "overlay_fs_args": {"auto_mkdir": True},
    }
    path = tmp_path / name / "copick.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(cfg))
    root = copick.from_file(str(path))
    for (user, session), rows in picks_by_user.items():
        for run_name in sorted({r[0] for r in rows}):
            run = root.get_run(run_name) or root.new_run(run_name)
            for obj in sorted({r[1] for r in rows if r[0] == run_name}):
                pts = np.array([r[2:] for r in rows if r[0] == run_name and r[1] == obj], float)
                run.new_picks(obj, session_id=session, user_id=user).from_numpy(pts)
    return path


def test_cli_copick_projects(tmp_path, capsys):
    truth = [("TS_1", "ribosome", 1000.0, 1000.0, 500.0), ("TS_1", "apo-ferritin", 2000.0, 2000.0, 500.0)]
    pred = [("TS_1", "ribosome", 1010.0, 1000.0, 500.0)]
    cfg = _copick_project(tmp_path, "proj", {("curation", "0"): truth, ("cryo", "7"): pred})
    assert main(["score", "--project", str(cfg), str(cfg), "--user", "cryo", "--session", "7", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["per_class"]["ribosome"]["tp"] == 1
    assert out["per_class"]["apo-ferritin"]["fn"] == 1
    assert out["score"] == pytest.approx(1 / 7)
    # a CSV solution against copick candidates gives the same
    pl.DataFrame(truth, schema=["experiment", "particle_type", "x", "y", "z"], orient="row").write_csv(
        tmp_path / "t.csv"
    )
    assert (
        main(["score", "--project", str(tmp_path / "t.csv"), str(cfg), "--user", "cryo", "--session", "7", "--json"])
        == 0
    )
    assert json.loads(capsys.readouterr().out)["score"] == pytest.approx(1 / 7)
