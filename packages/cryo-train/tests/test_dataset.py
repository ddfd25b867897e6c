"""PatchDataset with multi-worker DataLoaders: same patches whatever the number of workers."""

import torch
from cryo_data.io import open_project
from cryo_data.simproject import simulate_project
from cryo_train.dataset import AugmentConfig, PatchDataset
from torch.utils.data import DataLoader


def test_workers_do_not_change_the_data(tmp_path):
    prj = open_project(
        simulate_project(tmp_path / "p", runs=2, shape=(32, 64, 64), seed=9, crowding=8.0, progress=False)
    )
    ds = PatchDataset(prj, prj.runs(), ("denoised",), (16, 32, 32), samples_per_volume=4, seed=3)
    one = [b["image"] for b in DataLoader(ds, batch_size=2, num_workers=0)]
    two = [b["image"] for b in DataLoader(ds, batch_size=2, num_workers=2)]
    assert len(one) == len(two) == 4
    assert all(torch.equal(a, b) for a, b in zip(one, two))


def test_tomogram_normalisation_and_seed_parity_labels(tmp_path):
    prj = open_project(
        simulate_project(tmp_path / "p", runs=1, shape=(32, 64, 64), seed=2, crowding=8.0, progress=False)
    )
    ds = PatchDataset(
        prj,
        prj.runs(),
        ("denoised",),
        (16, 32, 32),
        4,
        normalization="tomogram",
        augment=AugmentConfig(affine_prob=1.0, label_mode="bilinear"),
        seed=0,
    )
    x = ds[0]
    assert x["label"].dtype == torch.long and int(x["label"].max()) <= 6
    assert abs(float(x["image"].mean())) > 1e-6  # not re-normalised per patch
