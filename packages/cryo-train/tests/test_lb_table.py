"""The 12-model table harness (benchmarks/lb_table.py) on fake seed checkpoints and a tiny simulated split."""
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "benchmarks"))
FIX = ROOT / "packages" / "cryo-models" / "tests" / "fixtures" / "seed_models"


def fake_checkpoints(folder: Path) -> None:
    import json
    from cryo_models import seed_table
    for r in seed_table().iter_rows(named=True):
        ref = json.loads((FIX / f"{r['arch']}.json").read_text())
        g = torch.Generator().manual_seed(r["no"])
        sd = {}
        for key, shape, dtype in ref["state_dict"]:
            sd[f"model.{key}"] = (torch.zeros(shape, dtype=torch.int64) if dtype == "int64"
                                  else 0.05 * torch.randn(shape, generator=g) + (1.0 if key.endswith("running_var") else 0.0))
        sd["loss_fn.ce.weight"] = torch.ones(r["n_classes"])
        torch.save({"epoch": 1, "state_dict": sd}, folder / r["checkpoint"])


@pytest.mark.skipif(not FIX.exists(), reason="reference fixtures missing")
def test_harness_runs_all_rows_and_ensembles(tmp_path):
    import lb_table
    from cryo_data.io import open_project
    from cryo_data.simproject import simulate_project
    from cryo_infer.window import WindowConfig
    (tmp_path / "ck").mkdir()
    fake_checkpoints(tmp_path / "ck")
    pub = open_project(simulate_project(tmp_path / "pub", runs=1, shape=(32, 64, 64), seed=1, crowding=8.0, progress=False))
    prv = open_project(simulate_project(tmp_path / "prv", runs=1, shape=(32, 64, 64), seed=2, crowding=8.0, progress=False))
    rows = lb_table.run_table(tmp_path / "ck", pub, prv, tta=("identity",), window=WindowConfig(roi_size=(32, 64, 64)), log=lambda *a: None)
    assert len(rows) == 14
    assert [r[0].split()[1] for r in rows[:12]] == ["unet_v1", "unet_v1", "unet_v2", "unet_v1", "unet_v1", "densevnet", "voxresnet",
                                                     "voxhrnet", "voxhrnet", "unet_v3", "segresnet", "unet2e3d"]
    assert all(0.0 <= r[1] <= 1.0 and 0.0 <= r[2] <= 1.0 for r in rows)
    md = lb_table.to_markdown(rows, simulated=False)
    assert md.count("\n") == 16 and "ensemble seed10" in md
    next((tmp_path / "ck").iterdir()).unlink()
    with pytest.raises(FileNotFoundError, match="missing checkpoint"):
        lb_table.run_table(tmp_path / "ck", pub, prv, tta=("identity",), log=lambda *a: None)
