"""Every command of the README's "Command lines" block runs, in order, on a tiny simulated project.

The commands are taken from README.md as written; only options that set sizes are appended (the project's shape,
small training patches and widths, one or two epochs, tiles and TTA views of inference), so that the whole sequence
stays small. The long commands of the README (the demo, benchmarks, ci/check.sh) are not in that block.
"""

import re
import shlex
from pathlib import Path

import mrcfile

README = Path(__file__).resolve().parents[3] / "README.md"
TRAIN = [
    "--set",
    "data.roi_size=[32,64,64]",
    "--set",
    "model.overrides={channels: [8, 16, 16, 16]}",
    "--set",
    "data.samples_per_volume=2",
    "--set",
    "val.overlap_vox=[8,16,16]",
    "--set",
    "val.post=full",
    "--quiet",
]
SMALL = {  # appended per command (argparse keeps the last value of a repeated option)
    ("cryo-data", "simulate"): ["--shape", "32", "96", "96", "--crowding", "10"],
    ("cryo-train", "fit"): TRAIN + ["--max-epochs", "1"],
    ("cryo-train", "cv"): TRAIN + ["--max-epochs", "1"],
    ("cryo-infer", "run"): ["--roi", "32", "64", "64", "--quiet"],
    ("cryo-infer", "tune"): ["--roi", "32", "64", "64", "--quiet"],
}


def readme_commands() -> list[list[str]]:
    text = README.read_text()
    block = re.search(r"<!-- readme-commands -->\s*```bash\n(.*?)```", text, re.S)
    assert block, "README.md lost its <!-- readme-commands --> block"
    lines = [ln.split("#")[0].strip() for ln in block.group(1).splitlines()]
    return [shlex.split(ln) for ln in lines if ln]


def entry(prog: str):
    import importlib

    return importlib.import_module(
        {
            "cryo-data": "cryo_data.cli",
            "cryo-train": "cryo_train.cli",
            "cryo-infer": "cryo_infer.cli",
            "cryo-metric": "cryo_metric.cli",
        }[prog]
    ).main


def test_readme_block_lists_every_cli():
    progs = {c[0] for c in readme_commands()}
    assert progs == {"cryo-data", "cryo-train", "cryo-infer", "cryo-metric"}, progs


def test_readme_block_uses_the_shared_vocabulary():
    "No command of the block uses an option spelling the shared vocabulary (cryo_metric.cliargs) deprecates."
    from cryo_metric.cliargs import CONCEPTS

    old = {d for spec in CONCEPTS.values() for d in spec.deprecated}
    for argv in readme_commands():
        used = {a.split("=")[0] for a in argv if a.startswith("--")}
        if argv[:2] != ["cryo-data", "simulate"]:
            used -= {"--runs"}  # run names everywhere; only simulate's count was renamed (--n-runs)
        assert not used & old, f"{' '.join(argv)}: old spellings {sorted(used & old)}"


def test_every_readme_command_runs(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    (tmp_path / "CKPT_DIR").mkdir()
    from cryo_models import seed_table

    for name in seed_table()["checkpoint"].to_list():  # `preset` checks that every published file is there
        (tmp_path / "CKPT_DIR" / name).write_bytes(b"")
    for argv in readme_commands():
        prog, args = argv[0], argv[1:]
        if "--mrc" in args:  # the MRC tomogram the README's command reads: one of SIM's tomograms
            from cryo_data.io import open_project

            with mrcfile.new(tmp_path / "tomo.mrc") as m:
                m.set_data(open_project(tmp_path / "SIM").tomogram("TS_0").numpy())
        extra = SMALL.get((prog, args[0]), [])
        if "--family" in args:  # a family draws its own crowding
            extra = ["--shape", "32", "96", "96"]
        if prog == "cryo-infer" and "--checkpoint" in args:
            extra = extra + ["--tta", "none"]
        rc = entry(prog)(args + extra)
        out = capsys.readouterr()
        assert rc in (0, None), f"{' '.join(argv)} failed ({rc}):\n{out.err[-2000:]}"
        assert "is deprecated" not in out.err, f"{' '.join(argv)} uses an old spelling:\n{out.err[-2000:]}"
    assert (tmp_path / "pred" / "submission.csv").exists() and (tmp_path / "pred_star" / "particles.star").exists()
    assert (tmp_path / "pred.png").exists() and (tmp_path / "cv_ens.yaml").exists()
    assert "thresholds" in (tmp_path / "cv_tuned.yaml").read_text()
