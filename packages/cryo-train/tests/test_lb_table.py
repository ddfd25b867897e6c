"""The 12-model table harness (benchmarks/lb_table.py) on fake 2nd-place-format checkpoints and a tiny simulated split, with
--device cpu: the folder check, one pass per model per tomogram shared by its row and the ensembles, resume, the table;
and its --fake dry run (what benchmarks/gpu_check.sh runs on a GPU at full size) on small Kaggle-layout runs."""

import json
import sys
from pathlib import Path

import polars as pl
import pytest
import torch

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "benchmarks"))
FIX = ROOT / "packages" / "cryo-models" / "tests" / "fixtures" / "seed_models"


def fake_checkpoints(folder: Path) -> None:
    import lb_table

    lb_table.fake_checkpoints(folder, FIX)


@pytest.mark.skipif(not FIX.exists(), reason="reference fixtures missing")
def test_lb_table_cli_on_fake_checkpoints(tmp_path, capsys):
    import lb_table
    from cryo_data.simproject import simulate_project

    ck = tmp_path / "ck"
    ck.mkdir()
    fake_checkpoints(ck)
    pub = simulate_project(
        tmp_path / "pub", runs=1, shape=(32, 64, 64), seed=1, crowding=8.0, progress=False, kaggle=True
    )
    prv = simulate_project(tmp_path / "prv", runs=1, shape=(32, 64, 64), seed=2, crowding=8.0, progress=False)
    argv = [
        "--device",
        "cpu",
        "--checkpoint-dir",
        str(ck),
        "--public",
        str(pub),
        "--private",
        str(prv),
        "--work",
        str(tmp_path / "w"),
        "--roi",
        "32",
        "64",
        "64",
        "--tta",
        "identity",
        "--results",
        str(tmp_path / "res"),
    ]
    assert lb_table.main(argv) == 0
    data = json.loads((tmp_path / "res" / "lb_table.json").read_text())
    rows = data["rows"]
    assert len(rows) == 15 and [r[0].split()[1] for r in rows[:12]] == [
        "unet_v1",
        "unet_v1",
        "unet_v2",
        "unet_v1",
        "unet_v1",
        "densevnet",
        "voxresnet",
        "voxhrnet",
        "voxhrnet",
        "unet_v3",
        "segresnet",
        "unet2e3d",
    ]
    assert [r[0].split()[1] for r in rows[12:]] == ["2nd-place-7", "submit7", "2nd-place-10"]
    assert all(0.0 <= r[1] <= 1.0 and 0.0 <= r[2] <= 1.0 for r in rows)
    assert len(data["checkpoints"]) == 12 and all(
        len(c["sha256"]) == 64 and c["bytes"] > 0 for c in data["checkpoints"]
    )
    md = (tmp_path / "res" / "lb_table.md").read_text()
    assert "ensemble submit7" in md and "private diff" in md and data["checkpoints"][0]["sha256"] in md
    # per-tomogram picks hold every row and ensemble; a second run reuses them (resume) and gives the same table
    done = pl.read_csv(tmp_path / "w" / "picks" / "public" / "TS_1.csv")
    assert done["model"].n_unique() <= 15 and set(done.columns) >= {"model", "run", "particle_type", "x", "y", "z"}
    capsys.readouterr()
    assert lb_table.main(argv) == 0
    assert "TS_1: cached" in capsys.readouterr().out
    assert json.loads((tmp_path / "res" / "lb_table.json").read_text())["rows"] == rows
    # other settings never reuse those picks
    with pytest.raises(FileExistsError, match="other settings"):
        lb_table.main([a if a != "identity" else "identity,flip_z" for a in argv])


@pytest.mark.skipif(not FIX.exists(), reason="reference fixtures missing")
def test_folder_is_checked_before_computing(tmp_path):
    import lb_table
    from cryo_models import seed_table

    ck = tmp_path / "ck"
    ck.mkdir()
    fake_checkpoints(ck)
    t = seed_table()
    (ck / t["checkpoint"][3]).unlink()
    (ck / t["checkpoint"][7]).unlink()
    with pytest.raises(FileNotFoundError, match=r"2 of 12 checkpoint\(s\) missing") as e:
        lb_table.check_folder(ck)
    assert t["checkpoint"][3] in str(e.value) and t["checkpoint"][7] in str(e.value)
    fake_checkpoints(ck)
    sd = torch.load(ck / t["checkpoint"][0], weights_only=True)
    del sd["state_dict"][next(k for k in sd["state_dict"] if k.startswith("model."))]  # a missing tensor
    torch.save(sd, ck / t["checkpoint"][0])
    with pytest.raises(ValueError, match="row 1"):
        lb_table.check_folder(ck)


@pytest.mark.skipif(not FIX.exists(), reason="reference fixtures missing")
def test_fake_dry_run_end_to_end_on_cpu(tmp_path, capsys):
    import lb_table

    argv = [
        "--fake",
        "--fake-runs",
        "1",
        "--fake-shape",
        "32",
        "64",
        "64",
        "--fake-crowding",
        "8",
        "--roi",
        "32",
        "64",
        "64",
    ]
    argv += ["--tta", "identity", "--device", "cpu", "--speed", "fast", "--work", str(tmp_path / "w")]
    assert lb_table.main(argv + ["--prepare-only", "--results", str(tmp_path / "res")]) == 0
    assert not (tmp_path / "res").exists() and not (tmp_path / "w" / "picks").exists()  # prepared, nothing computed
    assert lb_table.main(argv + ["--results", str(tmp_path / "res")]) == 0
    data = json.loads((tmp_path / "res" / "lb_table.json").read_text())
    assert data["fake"] is True and len(data["rows"]) == 15
    assert all(0.0 <= r[1] <= 1.0 and r[1] == r[2] for r in data["rows"])  # private = the same runs, via the cache
    assert len(list((tmp_path / "w" / "fake_ckpts").glob("*.ckpt"))) == 12
    runs = sorted(p.name for p in (tmp_path / "w" / "fake_kaggle" / "train" / "static" / "ExperimentRuns").iterdir())
    assert runs == ["TS_500"]  # the Kaggle layout: train/static/ExperimentRuns/<run>
    out = capsys.readouterr().out
    assert "[private] 1/1 TS_500: cached" in out and "[public] 1/1 TS_500: cached" not in out
    assert "FAKE" in (tmp_path / "res" / "lb_table.md").read_text()
    with pytest.raises(SystemExit):  # an unknown speed preset is refused by the parser
        lb_table.main(["--fake", "--speed", "turbo"])
