"""The peer baseline: the 2nd place's own inference loop, restated plainly as its submit notebook does it
(seed `src/submit.ipynb`, /work/shared/spec/seed-recipe.md section 6), so that our figures are ratios against it on the
same card and the same tiles.

What it does, as the notebook does (GPU):
- every model `.eval().half()`; the raw tomogram copied to the GPU as float16;
- tiles from `calculate_patch_starts_with_overlap` (128 x 384 x 384, overlap 32), z, then y, then x;
- each tile z-scored in float32 (MONAI NormalizeIntensity: mean, population std, std 0 -> 1), then `.half()`;
- per model, the seven views ONE AFTER ANOTHER (batch 1): softmax(model(T(x))), inverse T, mean of the seven;
- 7-class outputs give channels [1, 3, 4, 5, 6], 6-class outputs [1, 2, 3, 4, 5];
- `prob[5, D, H, W] += p * w` and `count[D, H, W] += w` in float16 on the GPU (w: 1.0 inside, edge_weight 0.1 on a
  border of overlap // 4), all models and tiles; then `prob /= count`.
On CPU (no float16 convolutions worth timing) the same loop runs in float32: said in every figure it gives.

    python benchmarks/peer_loop.py --device cpu --shape 32 96 96 --roi 32 64 64 --arch unet_v1   # compare with ours
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))

RECIPE_PATCH = (128, 384, 384)
RECIPE_OVERLAP = (32, 32, 32)
EDGE_WEIGHT = 0.1
CHANNELS = {7: [1, 3, 4, 5, 6], 6: [1, 2, 3, 4, 5]}


def peer_starts(dim: int, patch: int, overlap: int) -> list[int]:
    "calculate_patch_starts_with_overlap: n = ceil((dim - ov) / (patch - ov) + 1), clamped to dim - patch, unique."
    if patch >= dim:
        return [0]
    n = math.ceil((dim - overlap) / (patch - overlap) + 1)
    return sorted({min(i * (patch - overlap), dim - patch) for i in range(n)})


def peer_weights(patch: Sequence[int], overlap: Sequence[int], dtype, device) -> torch.Tensor:
    "build_weights: edge_weight everywhere, plus 1 - edge_weight inside [ov // 4 : patch - ov // 4] on every axis."
    w = torch.full(tuple(patch), EDGE_WEIGHT, dtype=dtype, device=device)
    b = [o // 4 for o in overlap]
    w[b[0] : patch[0] - b[0], b[1] : patch[1] - b[1], b[2] : patch[2] - b[2]] += 1 - EDGE_WEIGHT
    return w


def _views(x: torch.Tensor):
    "The 7 views as (forward, inverse) pairs on (B, C, z, y, x), in the notebook's order."
    yield x, lambda p: p
    for k in (1, 2, 3):
        yield torch.rot90(x, k, dims=(3, 4)), (lambda p, k=k: torch.rot90(p, -k, dims=(3, 4)))
    for d in (2, 3, 4):
        yield torch.flip(x, dims=[d]), (lambda p, d=d: torch.flip(p, dims=[d]))


def _normalize(patch: torch.Tensor) -> torch.Tensor:
    "MONAI NormalizeIntensity with defaults: float32 z-score of the whole patch, std 0 replaced by 1."
    p = patch.float()
    std = p.std(unbiased=False)
    return (p - p.mean()) / (std if std > 0 else 1.0)


@torch.no_grad()
def peer_predict(
    models: Sequence[torch.nn.Module],  # networks with 6 or 7 output channels
    volume: np.ndarray,  # (z, y, x) tomogram as read (float32)
    device: str | torch.device = "cuda",
    patch: Sequence[int] = RECIPE_PATCH,
    overlap: Sequence[int] = RECIPE_OVERLAP,
    half: bool | None = None,  # float16 models, input and accumulators (default: on a GPU only)
) -> torch.Tensor:  # (5, z, y, x) probabilities, on `device`, float16 on a GPU
    "The 2nd place's submit loop over one tomogram."
    device = torch.device(device)
    half = device.type == "cuda" if half is None else half
    dt = torch.float16 if half else torch.float32
    models = [m.eval().to(device, dt) for m in models]
    D, H, W = volume.shape
    patch = tuple(min(p, s) for p, s in zip(patch, volume.shape))
    overlap = tuple(min(o, p // 2) for o, p in zip(overlap, patch))  # small tiles only, as ours; no-op at 128/384
    vol = torch.from_numpy(np.ascontiguousarray(volume)).to(device, dt)  # the raw tomogram on the GPU, float16
    prob = torch.zeros((5, D, H, W), dtype=dt, device=device)
    count = torch.zeros((D, H, W), dtype=dt, device=device)
    w = peer_weights(patch, overlap, dt, device)
    for z in peer_starts(D, patch[0], overlap[0]):
        for y in peer_starts(H, patch[1], overlap[1]):
            for x in peer_starts(W, patch[2], overlap[2]):
                sl = (slice(z, z + patch[0]), slice(y, y + patch[1]), slice(x, x + patch[2]))
                inp = _normalize(vol[sl]).to(dt)[None, None]
                for m in models:
                    acc = None
                    for xv, inv in _views(inp):  # one view per forward pass, one after another
                        p = inv(torch.softmax(m(xv), dim=1))
                        acc = p if acc is None else acc + p
                    probs = (acc / 7)[0]
                    prob[(slice(None),) + sl] += probs[CHANNELS[probs.shape[0]]] * w
                    count[sl] += w
    return prob / count


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--shape", type=int, nargs=3, default=[184, 630, 630])
    ap.add_argument("--roi", type=int, nargs=3, default=list(RECIPE_PATCH))
    ap.add_argument("--arch", default="unet_v1")
    args = ap.parse_args(argv)
    from dataclasses import replace

    from cryo_infer.predict import Member, predict_volume
    from cryo_infer.window import RECIPE_WINDOW
    from cryo_models import create_model

    dev = torch.device(args.device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        print("peer_loop: no CUDA device")
        return 0
    vol = np.random.default_rng(0).standard_normal(tuple(args.shape)).astype(np.float32)
    torch.manual_seed(0)
    model = create_model(args.arch).eval()
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    t = time.perf_counter()
    peer = peer_predict([model], vol, dev, args.roi).float().cpu().numpy()
    sync()
    t_peer = time.perf_counter() - t
    window = replace(RECIPE_WINDOW, roi_size=tuple(args.roi), views_per_pass=7)
    t = time.perf_counter()
    ours = predict_volume([Member(model)], vol, window, device=dev, progress=False)
    sync()
    t_ours = time.perf_counter() - t
    prec = "float16" if dev.type == "cuda" else "float32 (CPU: the peer's float16 is not used)"
    print(
        f"{args.arch} on {tuple(args.shape)}, tiles {tuple(args.roi)}, {dev}: peer loop {t_peer:.2f} s ({prec}), "
        f"ours (exact) {t_ours:.2f} s, ratio {t_peer / t_ours:.2f}x; max |prob difference| {np.abs(peer - ours).max():.2e}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
