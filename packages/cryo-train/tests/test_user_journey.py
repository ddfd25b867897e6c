"""A lab's own project, end to end, through the command lines as a user types them (README: "Your own project").

The project is not shaped like the competition's: voxel size 7.84 A, a portal-style tomogram type, two particle
classes with names and radii of their own, ground truth under `lab/1` instead of `curation/0`. The road: simulate it
-> fine-tune from the weights of another model (a 7-class model trained on a competition-shaped project) on chosen
training runs -> infer one run with copick write-back (picks and segmentations) -> score that run only -> read the
picks back with copick's own API. Sizes are tiny (one epoch of a few steps, 48x96x96 volumes): this checks the road,
not the score.
"""

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import copick
import polars as pl
import pytest
import torch

README = Path(__file__).resolve().parents[3] / "README.md"
TOMO_TYPE = "wbp-denoised-denoiset-ctfdeconv"
TINY = [  # a tiny model and one short epoch: the road, not the score
    "--set",
    "data.roi_size=[32,32,32]",
    "--set",
    "data.samples_per_volume=2",
    "--set",
    "data.augment=false",
    "--set",
    "model.overrides={channels: [4, 8, 8, 8]}",
    "--set",
    "trainer.limit_train_batches=2",
    "--set",
    "val.post=full",
    "--max-epochs",
    "1",
    "--quiet",
]
SMALL = {  # appended per command (argparse keeps the last value of a repeated option)
    ("cryo-data", "simulate"): ["--shape", "48", "96", "96", "--crowding", "40", "--quiet"],
    ("cryo-train", "fit"): TINY,
    ("cryo-infer", "run"): ["--quiet"],
}
CLI = {
    "cryo-data": "cryo_data.cli",
    "cryo-train": "cryo_train.cli",
    "cryo-infer": "cryo_infer.cli",
    "cryo-metric": "cryo_metric.cli",
}


def readme_commands() -> list[list[str]]:
    "The README's 'Your own project' command lines, as written."
    block = re.search(r"<!-- own-project-commands -->\s*```bash\n(.*?)```", README.read_text(), re.S)
    assert block, "README.md lost its <!-- own-project-commands --> block"
    lines = [ln.split("#")[0].strip() for ln in block.group(1).splitlines()]
    return [shlex.split(ln) for ln in lines if ln]


def cli(cwd: Path, prog: str, *args: str) -> subprocess.CompletedProcess:
    "Run `prog args` as a user would (the installed command's module), in `cwd`; fail with its stderr."
    r = subprocess.run(
        [sys.executable, "-m", CLI[prog], *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, "MPLBACKEND": "Agg"},
    )
    assert r.returncode == 0, f"{prog} {' '.join(args)}\n{r.stdout[-2000:]}\n{r.stderr[-4000:]}"
    assert "deprecated and will be removed" not in r.stderr, r.stderr  # the README speaks the current vocabulary
    return r


@pytest.fixture(scope="module")
def journey(tmp_path_factory):
    "Walk the README's road once; the tests below check what each step left behind."
    w = tmp_path_factory.mktemp("journey")
    (w / "mine.csv").write_text("particle_type,radius_A,weight\nspindle,70,1\nbarrel,120,2\n")
    # the published checkpoint of the README: here, the weights of another model, a 7-class one trained on a
    # competition-shaped project
    cli(
        w,
        "cryo-data",
        "simulate",
        "--out",
        "CZII",
        "--n-runs",
        "2",
        "--shape",
        "32",
        "64",
        "64",
        "--crowding",
        "10",
        "--quiet",
    )
    cli(
        w,
        "cryo-train",
        "fit",
        "--recipe",
        "unet_v1",
        "--project",
        "CZII",
        "--valid-run",
        "TS_1",
        "--out",
        "base",
        *TINY,
    )
    (w / "CKPT_DIR").mkdir()
    (w / "CKPT_DIR" / "unet_v1.ckpt").write_bytes((w / "base" / "best.pt").read_bytes())
    out = {"dir": w}
    for argv in readme_commands():
        prog, args = argv[0], argv[1:]
        step = f"{prog} {args[0]}"
        out[step] = cli(w, prog, *args, *SMALL.get((prog, args[0]), []))
    # scoring without --runs: the warning that names the unpredicted runs
    i = readme_commands()[-1]
    j = i.index("--runs")
    out["unrestricted"] = cli(w, i[0], *(i[1:j] + i[j + 2 :]), "--json")
    out["one"] = cli(w, *i, "--json")
    return out


def test_project_is_not_shaped_like_the_competition(journey):
    root = copick.from_file(str(journey["dir"] / "MINE" / "copick.json"))
    assert sorted(o.name for o in root.pickable_objects if o.is_particle) == ["barrel", "spindle"]
    run = root.get_run("TS_0")
    (vs,) = run.voxel_spacings
    assert vs.voxel_size == pytest.approx(7.84)
    assert [t.tomo_type for t in vs.tomograms] == [TOMO_TYPE]
    truth = [p for p in run.picks if p.user_id == "lab" and p.session_id == "1"]
    assert truth and not [p for p in run.picks if p.user_id == "curation"]


def test_fine_tuning_kept_the_encoder_and_replaced_the_head(journey):
    text = journey["cryo-train fit"].stdout + journey["cryo-train fit"].stderr
    assert "kept" in text and "re-initialised" in text, text[-2000:]
    ckpt = torch.load(journey["dir"] / "fit_mine" / "best.pt", weights_only=True, map_location="cpu")
    base = torch.load(journey["dir"] / "base" / "best.pt", weights_only=True, map_location="cpu")
    sd, sd0 = ckpt["state_dict"], base["state_dict"]
    outs = {k: v.shape[0] for k, v in sd.items() if v.ndim == 5}
    outs0 = {k: v.shape[0] for k, v in sd0.items() if v.ndim == 5}
    changed = [k for k in outs if k in outs0 and outs[k] != outs0[k]]
    assert changed and all(outs[k] == 3 and outs0[k] == 7 for k in changed), (changed, outs, outs0)


def test_training_used_only_the_chosen_runs(journey):
    text = journey["cryo-train fit"].stdout + journey["cryo-train fit"].stderr
    assert "epoch 1" in text.lower(), text[-2000:]  # a log shows one line per epoch
    assert "TS_3" not in text  # the test run is neither trained nor validated on


def test_picks_read_back_with_copicks_own_api(journey):
    w = journey["dir"]
    sub = pl.read_csv(w / "pred_mine" / "submission.csv")
    assert set(sub["particle_type"]) <= {"spindle", "barrel"}
    run = copick.from_file(str(w / "MINE" / "copick.json")).get_run("TS_3")
    ours = [p for p in run.picks if p.user_id == "cryo" and p.session_id == "1"]
    assert sorted(p.pickable_object_name for p in ours) == ["barrel", "spindle"]
    n = sum(len(p.numpy()[0]) for p in ours)
    assert n == len(sub) > 0  # every pick of the one predicted run, and there are some
    segs = [s for s in run.segmentations if s.user_id == "cryo" and s.session_id == "1"]
    assert segs, "no copick segmentation written"
    assert all(s.voxel_size == pytest.approx(7.84) for s in segs)
    assert sorted(s.name for s in segs) == ["barrel", "spindle"]  # one probability map per class
    # the ground truth is untouched
    assert [p for p in run.picks if p.user_id == "lab" and p.session_id == "1"]


def test_scoring_one_run_and_the_warning(journey):
    one = json.loads(journey["one"].stdout)
    assert sorted(one["per_class"]) == ["barrel", "spindle"] and 0.0 <= one["score"] <= 1.0
    assert "TS_0" not in journey["one"].stderr  # no warning when --runs names what was predicted
    err = journey["unrestricted"].stderr
    assert "TS_0" in err and "--runs" in err, err  # the unpredicted runs named, and how to restrict
    assert json.loads(journey["unrestricted"].stdout)["score"] <= one["score"]
