"""Fake checkpoints in the 2nd place's Lightning format, built from the reference signatures, for all 12 table rows."""

from pathlib import Path

import polars as pl
import pytest
import torch
from cryo_models import CheckpointMismatchError, create_model, load_checkpoint, save_checkpoint, seed_table
from cryo_models.reference import load_reference

FIX = Path(__file__).parent / "fixtures" / "seed_models"
DTYPES = {"float32": torch.float32, "int64": torch.int64}


def fake_seed_checkpoint(arch: str, path: Path, seed: int) -> dict:
    """A Lightning checkpoint as the seed wrote it: random tensors of the reference shapes, keys prefixed model."""
    g = torch.Generator().manual_seed(seed)
    sd = {}
    for key, shape, dtype in load_reference(FIX / f"{arch}.json")["state_dict"]:
        dt = DTYPES[dtype]
        sd[f"model.{key}"] = (
            torch.randint(0, 5, shape, generator=g).to(dt) if dt == torch.int64 else torch.randn(shape, generator=g)
        )
    n_cls = 7 if arch not in ("unet_v3", "segresnet", "unet2e3d") else 6
    sd["loss_fn.ce.weight"] = torch.ones(n_cls)
    sd["loss_fn.tversky.class_weights"] = torch.ones(n_cls)
    torch.save({"epoch": seed, "global_step": 10 * seed, "pytorch-lightning_version": "2.5.0", "state_dict": sd}, path)
    return sd


def test_all_twelve_seed_checkpoints_load_strictly(tmp_path):
    table = seed_table()
    assert (
        table["checkpoint"].to_list()
        == pl.read_csv(Path(__file__).parent / "fixtures" / "lb_table.csv")["checkpoint"].to_list()
    )
    for row in table.iter_rows(named=True):
        path = tmp_path / row["checkpoint"]
        sd = fake_seed_checkpoint(row["arch"], path, row["no"])
        for name in (row["arch"], None):  # named, and recognised from keys and shapes
            model = load_checkpoint(path, name=name)
            assert model.cryo_info.arch == row["arch"]
            assert model.cryo_info.source_format == "lightning"
            assert len(model.cryo_info.classes) == row["n_classes"]
            some_key = next(k for k in sd if k.startswith("model.") and sd[k].is_floating_point())
            assert torch.equal(model.state_dict()[some_key[len("model.") :]], sd[some_key])


def test_wrong_architecture_gives_a_full_report(tmp_path):
    fake_seed_checkpoint("unet_v1", tmp_path / "a.ckpt", 1)
    with pytest.raises(CheckpointMismatchError) as e:
        load_checkpoint(tmp_path / "a.ckpt", name="unet_v3")
    msg = str(e.value)
    assert "shape mismatches" in msg and "fits registered architecture 'unet_v1'" in msg
    with pytest.raises(CheckpointMismatchError, match="missing keys"):
        load_checkpoint(tmp_path / "a.ckpt", name="unet_v2")
    with pytest.raises(CheckpointMismatchError, match="unexpected keys"):
        load_checkpoint(tmp_path / "a.ckpt", name="densevnet")


def test_plain_state_dict_and_own_format(tmp_path):
    m = create_model("voxhrnet")
    torch.save(m.state_dict(), tmp_path / "plain.pt")
    assert load_checkpoint(tmp_path / "plain.pt").cryo_info.source_format == "state_dict"
    save_checkpoint(create_model("segresnet"), tmp_path / "own.pt", normalization="tomogram", extra={"fold": 2})
    m2 = load_checkpoint(tmp_path / "own.pt")
    assert (m2.cryo_info.arch, m2.cryo_info.normalization, m2.cryo_info.extra) == ("segresnet", "tomogram", {"fold": 2})
    with pytest.raises(CheckpointMismatchError, match="holds a 'segresnet'"):
        load_checkpoint(tmp_path / "own.pt", name="unet_v1")


def test_bad_files(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_checkpoint(tmp_path / "nope.ckpt")
    (tmp_path / "junk.ckpt").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="cannot read checkpoint"):
        load_checkpoint(tmp_path / "junk.ckpt")
    torch.save({"weights": [1, 2]}, tmp_path / "odd.pt")
    with pytest.raises(ValueError, match="not a recognised checkpoint"):
        load_checkpoint(tmp_path / "odd.pt")
