"""A frozen copy of `cryo_infer.predict` as it was before the speed presets (commit ba468c4, generated from
nbs/02_predict.ipynb then): the reference that tests/test_presets.py checks the exact preset against, bit for bit.
Do not edit; do not import it from shipped code."""

# %% ../../nbs/02_predict.ipynb #43ded086
from __future__ import annotations

import math
import warnings
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch
from cryo_infer.membranes import MEMBRANE_MODES, suppress_membranes
from cryo_infer.tta import get_tta
from cryo_infer.window import RECIPE_WINDOW, WindowConfig, blend_weights, fit_roi, tile_grid
from cryo_metric.particles import BACKGROUND, CZII_PARTICLES, ParticleSet
from cryo_models.checkpoint import NORMALIZATIONS, normalise
from torch import nn
from tqdm.auto import tqdm

# %% auto #0
__all__ = ["SCORED", "scored_channels", "Member", "predict_volume"]

# %% ../../nbs/02_predict.ipynb #f43c38a1
SCORED = CZII_PARTICLES.scored
"The five classes that are scored (beta-amylase has weight 0 and is never predicted), from the vocabulary."


def scored_channels(
    classes: Sequence[str], with_background: bool = False, particles: ParticleSet | None = None
) -> list[int]:
    "Output-channel indices of the scored classes of `particles` (default: the competition's; optionally background first) in a model's class layout."
    names = ((BACKGROUND,) if with_background else ()) + (SCORED if particles is None else particles.scored)
    missing = [n for n in names if n not in classes]
    if missing:
        raise ValueError(f"model classes {list(classes)} lack {missing}")
    return [list(classes).index(n) for n in names]


# %% ../../nbs/02_predict.ipynb #727cc545
@dataclass
class Member:
    "One model of an ensemble."

    model: nn.Module  # the network (eval mode)
    weight: float = 1.0  # weight in the average
    classes: tuple[str, ...] | None = None  # output channel names (default: model.cryo_classes)
    divisor: tuple[int, int, int] = (1, 1, 1)  # input sizes must be multiples of these
    name: str = ""

    def __post_init__(self):
        if self.classes is None:
            self.classes = tuple(getattr(self.model, "cryo_classes", ()))
        if not self.classes:
            raise ValueError(f"member {self.name or type(self.model).__name__}: unknown output classes")
        arch = getattr(self.model, "cryo_arch", None)
        if arch is not None and self.divisor == (1, 1, 1):
            from cryo_models.registry import get_spec

            self.divisor = get_spec(arch).divisor


# %% ../../nbs/02_predict.ipynb #2358646d
def _as_members(models: Any) -> list[Member]:
    if isinstance(models, (nn.Module, Member)):
        models = [models]
    return [m if isinstance(m, Member) else Member(m) for m in models]


def _tomogram_stats(arr: Any, chunk: int = 16) -> tuple[float, float]:
    s = ss = n = 0.0
    for z in range(0, arr.shape[0], chunk):
        b = np.asarray(arr[z : z + chunk], np.float64)
        s += b.sum()
        ss += (b * b).sum()
        n += b.size
    m = s / n
    return m, math.sqrt(max(ss / n - m * m, 0.0))


# %% ../../nbs/02_predict.ipynb #c2e77c93
def _forward_views(
    member: Member, fn: Callable, x: torch.Tensor, views, batch: int, device, amp_dtype, combine: str, particles=None
) -> torch.Tensor:
    "Average over TTA views of one member on one tile: (C_out, z, y, x) probabilities or logits of the chosen channels."
    idx = scored_channels(member.classes, with_background=(combine == "logits"), particles=particles)
    acc = None
    for i in range(0, len(views), batch):
        group = views[i : i + batch]
        xs = [v.forward(x) for v in group]
        shapes = {tuple(t.shape) for t in xs}
        chunks = [torch.cat(xs)] if len(shapes) == 1 else xs
        outs = []
        for c in chunks:
            with torch.autocast(device_type=device.type, dtype=amp_dtype, enabled=amp_dtype is not None):
                outs.append(fn(c.to(device)).float())
        ys = [yi for o in outs for yi in o.split(1)]  # views of non-square tiles under rot90 differ in shape: no cat
        del outs
        for v, yi in zip(group, ys):  # softmax and channel choice per voxel, so before the (spatial) inverse
            yi = v.inverse(torch.softmax(yi, dim=1)[:, idx] if combine == "softmax" else yi[:, idx])[0]
            acc = (
                yi if acc is None else acc.add_(yi)
            )  # yi is a fresh tensor (indexed); adding in place keeps memory flat
        del ys
    return acc.div_(len(views))


# %% ../../nbs/02_predict.ipynb #11d0dd86
_COMPILED: weakref.WeakKeyDictionary[nn.Module, Callable] = weakref.WeakKeyDictionary()


def _compiled(model: nn.Module) -> Callable:
    "The model through torch.compile with frozen weights; the model itself, with a warning, where compiling fails."
    if model in _COMPILED:
        return _COMPILED[model]
    import torch._inductor.config as inductor_config

    cm = torch.compile(model, dynamic=False)
    state = {"ok": None}

    def run(x: torch.Tensor) -> torch.Tensor:
        if state["ok"] is False:
            return model(x)
        try:
            with inductor_config.patch(freezing=True):
                y = cm(x)
        except Exception as e:  # no C++ compiler, an unsupported operator, ...
            if state["ok"]:
                raise  # it worked before: a real error
            warnings.warn(
                f"torch.compile failed for {type(model).__name__} ({type(e).__name__}: {str(e)[:200]}); running it uncompiled"
            )
            state["ok"] = False
            return model(x)
        state["ok"] = True
        return y

    _COMPILED[model] = run
    return run


def _divide_by_weights(
    acc: np.ndarray, grid: Sequence[tuple[int, ...]], roi: Sequence[int], wt: np.ndarray, slab: int = 16
) -> None:
    "Divide the accumulated predictions by the summed tile weights, one z-slab at a time (no full-size weight array)."
    for z0 in range(0, acc.shape[1], slab):
        z1 = min(z0 + slab, acc.shape[1])
        w = np.zeros((z1 - z0,) + acc.shape[2:], np.float32)
        for s in grid:
            a, b = max(z0, s[0]), min(z1, s[0] + roi[0])
            if a < b:
                w[a - z0 : b - z0, s[1] : s[1] + roi[1], s[2] : s[2] + roi[2]] += wt[a - s[0] : b - s[0]]
        acc[:, z0:z1] /= w[None]


def _divide_by_weights_t(
    acc: torch.Tensor, grid: Sequence[tuple[int, ...]], roi: Sequence[int], wt: torch.Tensor, slab: int = 16
) -> None:
    "`_divide_by_weights` for a torch accumulator, on its device (the same float32 operations in the same order)."
    for z0 in range(0, acc.shape[1], slab):
        z1 = min(z0 + slab, acc.shape[1])
        w = torch.zeros((z1 - z0,) + tuple(acc.shape[2:]), dtype=torch.float32, device=acc.device)
        for s in grid:
            a, b = max(z0, s[0]), min(z1, s[0] + roi[0])
            if a < b:
                w[a - z0 : b - z0, s[1] : s[1] + roi[1], s[2] : s[2] + roi[2]] += wt[a - s[0] : b - s[0]]
        acc[:, z0:z1] /= w[None]


def _accumulate_where(accumulate_on: str, device: torch.device, nbytes: int) -> str:
    "'device' or 'host': 'auto' keeps the accumulator on a GPU when it takes at most half of the free memory."
    if accumulate_on not in ("auto", "device", "host"):
        raise ValueError(f"accumulate_on must be 'auto', 'device' or 'host', got {accumulate_on!r}")
    if accumulate_on != "auto":
        return accumulate_on
    if device.type != "cuda":
        return "host"
    free, _ = torch.cuda.mem_get_info(device)
    return "device" if nbytes <= free // 2 else "host"


# %% ../../nbs/02_predict.ipynb #a03b885c
@torch.inference_mode()
def predict_volume(
    models: Any,  # an nn.Module, a Member, or a list of them
    volume: Any,  # (z, y, x) array: numpy or zarr (read tile by tile)
    window: WindowConfig = RECIPE_WINDOW,  # tiling, blending and normalisation
    tta: Sequence[str] | str = "2nd-place",  # TTA views ("2nd-place": all seven)
    combine: str = "softmax",  # "softmax" (average probabilities) or "logits"
    device: str | torch.device = "cpu",
    amp: str | None = None,  # "fp16" or "bf16" autocast on GPU (ignored on CPU); None: float32
    progress: bool = True,
    compile: bool = False,  # torch.compile each model with frozen weights (faster on CPU; compiles once per tile shape)
    accumulate_on: str = "auto",  # "device": blend on the compute device, one copy to the host; "host"; "auto": device on a GPU if it fits
    particles: ParticleSet | None = None,  # whose scored classes to return (default: the competition's SCORED)
    voxel_size_A: Sequence[float]
    | float
    | None = None,  # the tomogram's, Angstrom: needed by window.membranes "suppress"
) -> np.ndarray:  # float32 (n_scored, z, y, x): probabilities of the scored classes, in the set's order
    "Probability maps of the five scored classes for a whole tomogram."
    members, views = _as_members(models), get_tta(tta)
    if combine not in ("softmax", "logits"):
        raise ValueError(f"combine must be 'softmax' or 'logits', got {combine!r}")
    if window.normalization not in NORMALIZATIONS:
        raise ValueError(f"unknown normalization {window.normalization!r}; choose from {list(NORMALIZATIONS)}")
    if window.membranes not in MEMBRANE_MODES:
        raise ValueError(f"window.membranes must be one of {list(MEMBRANE_MODES)}, got {window.membranes!r}")
    if window.membranes == "suppress":  # the whole tomogram, painted over once before tiling
        if voxel_size_A is None:
            raise ValueError("window.membranes 'suppress' needs the tomogram's voxel_size_A (Angstrom)")
        volume = suppress_membranes(np.asarray(volume), voxel_size_A)
    device = torch.device(device)
    if amp not in ("fp16", "bf16", "half", None):
        raise ValueError(f"amp must be 'fp16', 'bf16', 'half' or None, got {amp!r}")
    half = (
        amp == "half" and device.type != "cpu"
    )  # the 2nd place: .half() models and inputs, float16 accumulation (GPU only)
    amp_dtype = (
        {"fp16": torch.float16, "bf16": torch.bfloat16, "half": None, None: None}[amp] if device.type != "cpu" else None
    )
    if window.input_dtype not in ("float32", "float16"):
        raise ValueError(f"input_dtype must be 'float32' or 'float16', got {window.input_dtype!r}")
    shape = tuple(int(s) for s in volume.shape)
    divisor = tuple(math.lcm(*[m.divisor[a] for m in members]) for a in range(3))
    roi, padded = fit_roi(shape, window.roi_size, divisor)
    bad = [(a, r) for a, r in enumerate(roi) if r % divisor[a]]
    if bad:
        raise ValueError(f"roi_size {roi} is not a multiple of {divisor} (required by the ensemble's architectures)")
    window = replace(
        window, overlap_vox=tuple(min(o, r // 2) for o, r in zip(window.overlap_vox, roi))
    )  # small tiles: smaller overlap
    if padded != shape:
        pad = [(0, p - s) for p, s in zip(padded, shape)]
        volume = np.pad(np.asarray(volume[...], np.float32), pad, mode="edge")
    stats = _tomogram_stats(volume) if window.normalization == "tomogram" else None
    n_out = len(SCORED if particles is None else particles.scored) + (combine == "logits")
    where = (
        "host" if half else _accumulate_where(accumulate_on, device, 4 * n_out * math.prod(padded))
    )  # the 2nd place's float16: on the host
    acc = (
        torch.zeros((n_out,) + padded, dtype=torch.float32, device=device)
        if where == "device"
        else np.zeros((n_out,) + padded, np.float16 if half else np.float32)
    )
    wt = blend_weights(roi, window)
    wt_t = torch.from_numpy(wt).to(device if where == "device" else "cpu")
    total_w = sum(m.weight for m in members)
    for m in members:
        m.model.eval().to(device, torch.float16 if half else None)
    fns = [_compiled(m.model) if compile else m.model for m in members]
    grid = tile_grid(padded, roi, window.overlap_vox)
    for start in tqdm(grid, desc="tiles", disable=not progress, leave=False):
        sl = tuple(slice(s, s + r) for s, r in zip(start, roi))
        tile = np.asarray(volume[sl], np.float32)
        if not np.isfinite(tile).all():
            raise ValueError(f"NaN or infinite voxels in the tile at {start}")
        if window.input_dtype == "float16":
            tile = tile.astype(np.float16).astype(np.float32)  # normalised in float32, as MONAI did
        x = torch.from_numpy(normalise(tile, window.normalization, stats))[None, None].to(device)  # one copy per tile
        if half:
            x = x.half()
        t_acc = None
        for m, fn in zip(members, fns):
            y = _forward_views(m, fn, x, views, window.views_per_pass, device, amp_dtype, combine, particles)
            if where == "host":
                y = y.cpu()
            y = y.mul_(m.weight / total_w)
            if t_acc is None:
                t_acc = y
            else:
                t_acc += y
        if where == "device":
            acc[(slice(None),) + sl] += t_acc.mul_(wt_t)
        else:
            acc[(slice(None),) + sl] += t_acc.mul_(wt_t).numpy().astype(acc.dtype, copy=False)
    if where == "device":
        _divide_by_weights_t(acc, grid, roi, wt_t)
        if combine == "logits":
            acc = torch.softmax(acc, dim=0)[1:]
        acc = acc[(slice(None),) + tuple(slice(0, s) for s in shape)].cpu().numpy()  # the one copy to the host
        return np.ascontiguousarray(acc)
    _divide_by_weights(acc, grid, roi, wt)
    acc = acc.astype(np.float32, copy=False)
    if combine == "logits":
        acc = torch.softmax(torch.from_numpy(acc), dim=0)[1:].numpy()
    return np.ascontiguousarray(acc[(slice(None),) + tuple(slice(0, s) for s in shape)])
