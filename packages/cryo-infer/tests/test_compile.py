"""torch.compile in prediction: same maps as eager, a warning and eager fallback where compiling fails, the CLI flags."""

import subprocess
import sys

import numpy as np
import pytest
import torch
import yaml
from cryo_data.simproject import simulate_project
from cryo_infer import predict
from cryo_infer.ensemble import EnsembleConfig, MemberSpec, save_ensemble
from cryo_infer.predict import predict_volume
from cryo_infer.window import WindowConfig
from cryo_models import create_model, save_checkpoint

WINDOW = WindowConfig(roi_size=(16, 32, 32), overlap_vox=(4, 8, 8), views_per_pass=1)


def small_model():
    torch.manual_seed(0)
    return create_model("unet_v1", channels=(8, 16, 16, 16)).eval()


def test_compile_failure_falls_back_with_warning(monkeypatch):
    vol = np.random.default_rng(1).standard_normal((24, 40, 40)).astype(np.float32)
    m = small_model()
    eager = predict_volume(m, vol, WINDOW, tta=("identity", "flip_z"), progress=False)

    def broken_compile(model, **kw):
        def f(x):
            raise RuntimeError("no C++ compiler (simulated)")

        return f

    monkeypatch.setattr(torch, "compile", broken_compile)
    m2 = small_model()
    with pytest.warns(UserWarning, match="torch.compile failed.*simulated"):
        out = predict_volume(m2, vol, WINDOW, tta=("identity", "flip_z"), progress=False, compile=True)
    np.testing.assert_array_equal(out, eager)
    predict._COMPILED.pop(m2, None)


def test_cli_compile_and_roi(tmp_path):
    cfg = simulate_project(tmp_path / "p", runs=1, shape=(32, 64, 64), seed=3, crowding=2.0, progress=False)
    save_checkpoint(small_model(), tmp_path / "m.pt")
    save_ensemble(
        EnsembleConfig(members=(MemberSpec(str(tmp_path / "m.pt")),), tta=("identity", "rot90_1")),
        tmp_path / "ens.yaml",
    )
    base = [
        sys.executable,
        "-m",
        "cryo_infer.cli",
        "run",
        "--project",
        str(cfg),
        "--ensemble",
        str(tmp_path / "ens.yaml"),
        "--quiet",
    ]
    r = subprocess.run(
        base + ["--out", str(tmp_path / "a"), "--roi", "16", "32", "32", "--compile"], capture_output=True, text=True
    )
    assert r.returncode == 0, r.stderr
    assert yaml.safe_load((tmp_path / "a" / "ensemble.yaml").read_text())["window"]["roi_size"] == [16, 32, 32]
    r2 = subprocess.run(
        base + ["--out", str(tmp_path / "b"), "--roi", "16", "32", "32"], capture_output=True, text=True
    )
    assert r2.returncode == 0, r2.stderr
    # the same picks up to float rounding of the probabilities: same count, coordinates within 0.01 Angstrom
    a, b = [
        np.loadtxt(tmp_path / d / "submission.csv", delimiter=",", skiprows=1, usecols=(3, 4, 5), ndmin=2) for d in "ab"
    ]
    assert a.shape == b.shape
    np.testing.assert_allclose(a, b, atol=1e-2)
