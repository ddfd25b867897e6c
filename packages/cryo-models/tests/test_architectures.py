"""Fidelity to the original code: state_dict signatures, parameter counts and output probes of all eight names."""

from pathlib import Path

import pytest
from cryo_models import ARCHITECTURES, create_model
from cryo_models.reference import check_probe, load_reference, n_params, signature

FIX = Path(__file__).parent / "fixtures" / "seed_models"
NAMES = ["unet_v1", "unet_v2", "unet_v3", "segresnet", "densevnet", "voxresnet", "voxhrnet", "unet2e3d"]


def test_registry_has_the_eight_names():
    assert sorted(ARCHITECTURES) == sorted(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_signature_params_and_probe(name):
    ref = load_reference(FIX / f"{name}.json")
    model = create_model(name)
    assert signature(model) == ref["state_dict"], "state_dict keys, order, shapes or dtypes differ"
    assert n_params(model) == ref["n_params"]
    res = check_probe(model, ref)
    assert res.output_shape == tuple(ref["probe"]["output_shape"])
    assert res.max_abs_error <= res.tolerance, f"probe error {res.max_abs_error:.3g} > tolerance {res.tolerance:.3g}"


def test_a_wrong_variant_misses_the_probe():
    # trilinear instead of nearest upsampling in UNet2E3D's decoder is one of the documented wrong variants
    import cryo_models.nets.unet2e3d as u
    import torch.nn.functional as F

    ref = load_reference(FIX / "unet2e3d.json")
    orig = u.F.interpolate
    try:
        u.F.interpolate = lambda x, scale_factor, mode: orig(
            x, scale_factor=scale_factor, mode="trilinear", align_corners=False
        )
        res = check_probe(create_model("unet2e3d"), ref)
    finally:
        u.F.interpolate = orig
    assert res.max_abs_error > 10 * res.tolerance
    assert F.interpolate is orig
