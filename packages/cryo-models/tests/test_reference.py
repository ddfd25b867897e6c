"""Reference fill and probe machinery (the probes of all architectures are in test_architectures.py)."""

from pathlib import Path

import numpy as np
import torch
from cryo_models.reference import check_probe, fill_state_dict, fill_value, load_reference, probe_input
from monai.networks.nets import UNet

FIX = Path(__file__).parent / "fixtures" / "seed_models"


def test_fill_is_deterministic_and_name_dependent():
    a, b = fill_value("layer.weight", (4, 3, 3)), fill_value("layer.weight", (4, 3, 3))
    assert np.array_equal(a, b)
    assert not np.array_equal(a, fill_value("other.weight", (4, 3, 3)))
    assert np.abs(a).max() <= np.sqrt(6 / 9) + 1e-12


def test_integer_buffers_keep_their_value():
    m = torch.nn.BatchNorm1d(3)
    m.num_batches_tracked.fill_(7)
    fill_state_dict(m)
    assert int(m.num_batches_tracked) == 7
    assert float(m.running_var.min()) >= 1.0


def test_probe_input_is_reproducible():
    assert torch.equal(probe_input(), probe_input())
    assert abs(float(probe_input().mean())) < 0.1


def test_unet_v3_probe():
    ref = load_reference(FIX / "unet_v3.json")
    assert check_probe(UNet(**ref["constructor"]), ref).ok
