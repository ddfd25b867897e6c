"""Kaggle notebook mode: the competition data is mounted read-only; `cryo-data info` and `cryo-infer run` must work on it
and leave the tree exactly as it was (a listing with sizes and mtimes is compared before and after)."""

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from cryo_data.simproject import simulate_project
from cryo_infer.ensemble import EnsembleConfig, MemberSpec, save_ensemble
from cryo_infer.window import WindowConfig
from cryo_models import create_model, save_checkpoint


def listing(root: Path) -> list[tuple[str, int, int]]:
    "Every path under `root` with its size and mtime (ns)."
    out = []
    for p in sorted(root.rglob("*")):
        st = p.lstat()
        out.append((str(p.relative_to(root)), st.st_size if p.is_file() else 0, st.st_mtime_ns))
    return out


def _can_mount_readonly(tmp: Path) -> bool:
    "True where a private mount namespace with a read-only bind mount can be made (root with CAP_SYS_ADMIN)."
    if shutil.which("unshare") is None or os.geteuid() != 0:
        return False
    (tmp / "a").mkdir(parents=True)
    (tmp / "b").mkdir()
    r = subprocess.run(
        [
            "unshare",
            "-m",
            "sh",
            "-c",
            f"mount --bind {tmp / 'a'} {tmp / 'b'} && mount -o remount,ro,bind {tmp / 'b'}"
            f" && ! touch {tmp / 'b' / 'x'} 2>/dev/null",
        ],
        capture_output=True,
    )
    return r.returncode == 0


@pytest.fixture(scope="module")
def kaggle_input(tmp_path_factory):
    d = tmp_path_factory.mktemp("kaggle")
    simulate_project(d / "input", runs=1, shape=(32, 64, 64), seed=3, crowding=8.0, kaggle=True, progress=False)
    model = create_model("unet_v1", channels=(4, 8, 8, 8))
    save_checkpoint(model, d / "m.pt")
    save_ensemble(
        EnsembleConfig(
            members=(MemberSpec(str(d / "m.pt"), "unet_v1"),),
            tta=("identity",),
            window=WindowConfig(roi_size=(32, 64, 64)),
            post="full",
        ),
        d / "ens.yaml",
    )
    return d


def test_readonly_kaggle_tree_info_and_run(kaggle_input, tmp_path):
    d = kaggle_input
    data, work, out = d / "input", tmp_path / "work", tmp_path / "working"
    before = listing(data)
    py = shlex.quote(sys.executable)
    cmds = [
        f"{py} -m cryo_data.cli info {{data}}/train --work-dir {shlex.quote(str(work))}",
        f"{py} -m cryo_infer.cli run --project {{data}}/train --ensemble {shlex.quote(str(d / 'ens.yaml'))} "
        f"--out {shlex.quote(str(out))} --work-dir {shlex.quote(str(tmp_path / 'work2'))} --quiet",
    ]
    if _can_mount_readonly(tmp_path / "probe"):  # a real read-only mount, as on Kaggle
        mnt = tmp_path / "mnt"
        mnt.mkdir()
        script = (
            f"mount --bind {shlex.quote(str(data))} {mnt} && mount -o remount,ro,bind {mnt} && "
            f"! touch {mnt}/probe 2>/dev/null && " + " && ".join(c.format(data=mnt) for c in cmds)
        )
        r = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True)
        mounted = True
    else:  # no mount rights: take away write permission instead (binding for non-root users)
        subprocess.run(["chmod", "-R", "a-w", str(data)], check=True)
        try:
            r = subprocess.run(
                ["sh", "-c", " && ".join(c.format(data=shlex.quote(str(data))) for c in cmds)],
                capture_output=True,
                text=True,
            )
        finally:
            subprocess.run(["chmod", "-R", "u+w", str(data)], check=True)
        mounted = False
    assert r.returncode == 0, (mounted, r.stdout[-2000:], r.stderr[-3000:])
    assert "TS_3" in r.stdout and "picks in 1 runs" in r.stdout
    assert listing(data) == before  # nothing written, nothing touched
    assert (work / "copick.json").exists() and (tmp_path / "work2" / "copick.json").exists()
    sub = pl.read_csv(out / "submission.csv")
    assert sub.columns == ["id", "experiment", "particle_type", "x", "y", "z"]


def test_work_dir_inside_the_input_is_refused(kaggle_input):
    data = kaggle_input / "input" / "train"
    r = subprocess.run(
        [sys.executable, "-m", "cryo_data.cli", "info", str(data), "--work-dir", str(data / "cache")],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 2 and "inside the input" in r.stderr
    assert not (data / "cache").exists()


def test_work_dir_copies_follow_the_umask(kaggle_input, tmp_path):
    "Under umask 022 the work-dir copies of the Kaggle picks and every output of `run` are 0644, not mkstemp's 0600."
    from cryo_infer.cli import main

    old = os.umask(0o022)
    try:
        argv = ["run", "--project", kaggle_input / "input" / "train", "--ensemble", kaggle_input / "ens.yaml"]
        assert (
            main([str(a) for a in argv] + ["--out", str(tmp_path / "o"), "--work-dir", str(tmp_path / "w"), "--quiet"])
            == 0
        )
    finally:
        os.umask(old)
    files = [p for p in (tmp_path / "w").rglob("*") if p.is_file()] + [
        p for p in (tmp_path / "o").rglob("*") if p.is_file()
    ]
    copies = [p for p in files if p.suffix == ".json" and "Picks" in p.parts]
    assert copies, "the work dir holds the picks copies"
    assert {oct(p.stat().st_mode & 0o777) for p in files} == {"0o644"}, [
        (str(p), oct(p.stat().st_mode & 0o777)) for p in files if p.stat().st_mode & 0o777 != 0o644
    ]
