"""The fast paths equal the slow ones: foreground-only component statistics vs cc3d.statistics + scipy.ndimage, and the
device accumulator vs the host accumulator (run on CPU tensors), with one device-to-host copy per tomogram."""

import cc3d
import cryo_infer.postprocess as post
import numpy as np
import pytest
import torch
from cryo_infer.postprocess import POST_PRESETS, PostConfig, probs_to_picks
from cryo_infer.predict import Member, predict_volume
from cryo_infer.window import WindowConfig
from cryo_metric.particles import LAYOUT_7
from scipy import ndimage
from torch import nn


def old_components(p, thr, min_size, connectivity, score):
    """The previous implementation (whole-volume statistics)."""
    labels = cc3d.connected_components(p > thr, connectivity=connectivity)
    stats = cc3d.statistics(labels)
    cent, counts = np.asarray(stats["centroids"])[1:], np.asarray(stats["voxel_counts"])[1:]
    keep = np.flatnonzero(counts > min_size)
    if keep.size == 0:
        return np.zeros((0, 3)), np.zeros(0)
    sc = (ndimage.maximum if score == "max" else ndimage.mean)(p, labels, keep + 1)
    return cent[keep].reshape(-1, 3), np.asarray(sc, np.float64).reshape(-1)


def smooth_probs(seed, shape=(5, 24, 48, 40)):
    rng = np.random.default_rng(seed)
    p = ndimage.gaussian_filter(rng.random(shape), (0, 1.2, 1.2, 1.2))
    p = (p - p.min()) / (p.max() - p.min())
    return p.astype(np.float32)


@pytest.mark.parametrize(
    "seed,preset,score,connectivity",
    [(0, "2nd-place", "max", 26), (1, "2nd-place-parity", "mean", 26), (2, "full", "max", 6), (3, "full", "mean", 18)],
)
def test_picks_identical_to_the_previous_implementation(seed, preset, score, connectivity, monkeypatch):
    probs = smooth_probs(seed)
    cfg = PostConfig(
        **{
            **POST_PRESETS[preset].__dict__,
            "thresholds": {n: 0.55 for n in POST_PRESETS[preset].thresholds},
            "score": score,
            "connectivity": connectivity,
        }
    )
    new = probs_to_picks(probs, (10.0, 9.0, 8.0), cfg, run="r")
    monkeypatch.setattr(post, "_components", old_components)
    old = probs_to_picks(probs, (10.0, 9.0, 8.0), cfg, run="r")
    assert len(new) > 5
    assert new.equals(old)  # bit-identical coordinates and scores, same order


def test_float64_maps_and_empty_classes():
    probs = smooth_probs(3).astype(np.float64)
    probs[1] = 0.0  # no component at all
    for c in (0, 2):
        a, b = post._components(probs[c], 0.6, 1, 26, "max"), old_components(probs[c], 0.6, 1, 26, "max")
        assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert post._components(probs[1], 0.6, 1, 26, "max")[0].shape == (0, 3)


def test_non_finite_maps_are_rejected_naming_the_problem():
    probs = smooth_probs(4)
    probs[4, 3, 3, 3] = np.inf
    with pytest.raises(ValueError, match="NaN or infinite"):
        probs_to_picks(probs, 10.0)


class TinyNet(nn.Module):
    cryo_classes = LAYOUT_7

    def __init__(self, seed=0):
        super().__init__()
        torch.manual_seed(seed)
        self.net = nn.Sequential(
            nn.Conv3d(1, 8, 3, padding=1), nn.InstanceNorm3d(8), nn.PReLU(), nn.Conv3d(8, 7, 3, padding=1)
        )

    def forward(self, x):
        return self.net(x)


VOL = np.random.default_rng(0).standard_normal((20, 40, 36)).astype(np.float32)


@pytest.mark.parametrize("combine", ["softmax", "logits"])
@pytest.mark.parametrize("roi,batch", [((12, 24, 24), 1), ((12, 24, 24), 7), ((0, 0, 0), 3)])
def test_device_accumulator_equals_host_accumulator(combine, roi, batch):
    members = [Member(TinyNet(0), 1.0), Member(TinyNet(1), 2.5)]
    win = WindowConfig(roi_size=roi, overlap_vox=(4, 8, 8), views_per_pass=batch)
    host = predict_volume(members, VOL, win, "2nd-place", combine=combine, progress=False, accumulate_on="host")
    dev = predict_volume(members, VOL, win, "2nd-place", combine=combine, progress=False, accumulate_on="device")
    assert dev.dtype == np.float32 and dev.shape == (5,) + VOL.shape
    assert np.array_equal(dev, host)


def test_device_accumulator_copies_to_the_host_once(monkeypatch):
    calls = {"n": 0}
    orig = torch.Tensor.cpu

    def counting_cpu(self, *a, **k):
        calls["n"] += 1
        return orig(self, *a, **k)

    monkeypatch.setattr(torch.Tensor, "cpu", counting_cpu)
    members = [Member(TinyNet(0)), Member(TinyNet(1)), Member(TinyNet(2))]
    win = WindowConfig(roi_size=(12, 24, 24), overlap_vox=(4, 8, 8), views_per_pass=7)
    from cryo_infer.window import tile_grid

    n_tiles = len(tile_grid(VOL.shape, (12, 24, 24), (4, 8, 8)))
    predict_volume(members, VOL, win, "none", progress=False, accumulate_on="device")
    assert calls["n"] == 1
    calls["n"] = 0
    predict_volume(members, VOL, win, "none", progress=False, accumulate_on="host")
    assert calls["n"] == n_tiles * len(members)


def test_amp_is_ignored_on_cpu():
    net = TinyNet(0).eval()
    win = WindowConfig(roi_size=(0, 0, 0))
    fp32 = predict_volume(net, VOL, win, "none", progress=False)
    for amp in ("fp16", "bf16"):  # CPU bf16 autocast was not faster (benchmarks/results/bf16_cpu.md): float32 stays
        assert np.array_equal(predict_volume(net, VOL, win, "none", amp=amp, progress=False), fp32)
    with pytest.raises(ValueError, match="amp"):
        predict_volume(net, VOL, win, "none", amp="fp8", progress=False)
