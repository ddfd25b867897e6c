"""Training benchmark: unet_v1 at a reduced patch size on a simulated 7-run project, fixed wall-clock budget (CPU).

Trains on the demo's simulator family (`cryo_train.demo.DemoConfig.family`, `cellular-wedge`; `--family` another) and records the held-out F-beta per class (official
metric), the score of a run from the `foreign` family next to it, and the learning curve. A GPU section
(skipped without CUDA) measures steps/s of unet_v1 at 128x256x256, batch 2, 16-mixed, through Lightning against a bare
PyTorch loop of the same model and loss in the same run (goal: at least 0.95x of the bare loop).

    python benchmarks/train_cpu.py [--minutes 10] [--shape 96 256 256] [--roi 64 128 128] [--family NAME] [--results DIR]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import header, write_result  # noqa: E402


def gpu_section(steps: int = 30) -> str:
    import torch

    if not torch.cuda.is_available():
        return "\nGPU section skipped: no CUDA device.\n"
    import lightning.pytorch as pl_
    from cryo_models import create_model
    from cryo_train.loss import SeedLoss

    x = torch.randn(2, 1, 128, 256, 256, device="cuda")
    y = torch.randint(0, 7, (2, 1, 128, 256, 256), device="cuda")
    model, loss_fn = create_model("unet_v1").cuda(), SeedLoss(7).cuda()
    opt = torch.optim.AdamW(model.parameters(), 1e-3)
    scaler = torch.amp.GradScaler()

    def step():
        with torch.autocast("cuda", dtype=torch.float16):
            loss = loss_fn(model(x), y)
        opt.zero_grad()
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()

    for _ in range(3):
        step()
    torch.cuda.synchronize()
    t = time.perf_counter()
    for _ in range(steps):
        step()
    torch.cuda.synchronize()
    bare = steps / (time.perf_counter() - t)

    class M(pl_.LightningModule):
        def __init__(self):
            super().__init__()
            self.model, self.loss_fn = create_model("unet_v1"), SeedLoss(7)

        def training_step(self, b, i):
            return self.loss_fn(self.model(b[0]), b[1])

        def configure_optimizers(self):
            return torch.optim.AdamW(self.parameters(), 1e-3)

    data = [(x[0:2].cpu(), y[0:2].cpu())] * (steps + 3)
    loader = torch.utils.data.DataLoader(data, batch_size=None)

    class Timer(pl_.Callback):
        def on_train_batch_start(self, tr, m, b, i):
            if i == 3:
                torch.cuda.synchronize()
                self.t = time.perf_counter()

        def on_train_end(self, tr, m):
            torch.cuda.synchronize()
            self.dt = time.perf_counter() - self.t

    cb = Timer()
    pl_.Trainer(
        max_epochs=1,
        precision="16-mixed",
        accelerator="gpu",
        devices=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        callbacks=[cb],
    ).fit(M(), loader)
    light = steps / cb.dt
    return (
        f"\n## GPU: {torch.cuda.get_device_name(0)}, unet_v1, 128x256x256, batch 2, 16-mixed\n\n"
        f"| loop | steps/s |\n|---|---|\n| bare PyTorch | {bare:.2f} |\n| Lightning (cryo-train's settings) | {light:.2f} |\n\n"
        f"ratio {light / bare:.3f} (goal >= 0.95)\n"
    )


def main(argv=None) -> int:
    from cryo_infer.ensemble import EnsembleConfig, MemberSpec
    from cryo_infer.evaluate import evaluate, score_picks
    from cryo_train.config import TrainConfig, apply_overrides
    from cryo_train.demo import DemoConfig, demo_project, demo_window
    from cryo_train.fit import fit

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--shape", type=int, nargs=3, default=[64, 192, 192])
    ap.add_argument("--roi", type=int, nargs=3, default=[32, 96, 96])
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--results", default=None)
    ap.add_argument(
        "--family",
        default=DemoConfig().family,
        help="family of the training and held-out runs (results: train_cpu_<family>; `randomised`: train_cpu)",
    )
    args = ap.parse_args(argv)
    name = "train_cpu" if args.family == "randomised" else f"train_cpu_{args.family}"
    demo = DemoConfig(
        runs=7, shape=tuple(args.shape), seed=100, heldout_per_class=12, family=args.family, roi_size=tuple(args.roi)
    )
    with tempfile.TemporaryDirectory() as d:
        prj = demo_project(Path(d), demo)  # 6 training runs + a held-out run from the family, 1 'foreign' run
        runs = [*demo.train_runs, demo.heldout]
        m = int(args.minutes)
        s = int(round((args.minutes - m) * 60))
        cfg = apply_overrides(
            TrainConfig(),
            [
                f"data.roi_size={args.roi}",
                f"data.normalization={demo.normalization}",
                "data.tomo_types=[denoised]",
                "data.samples_per_volume=8",
                f"optim.lr={args.lr}",
                "val.post=full",
                "val.every_n_epochs=2",
                "trainer.max_epochs=1000",
                f"trainer.max_time=00:00:{m:02d}:{s:02d}",
            ],
        )
        t = time.time()
        r = fit(cfg, prj, runs[-1:], Path(d) / "out", train_runs=demo.train_runs, progress=False)
        wall = time.time() - t
        ens = EnsembleConfig(
            members=(MemberSpec(str(r.out_dir / "best.pt")),), tta=("identity",), window=demo_window(demo), post="full"
        )
        picks = evaluate(prj, ens, demo.test_runs).picks
        res_in = score_picks(prj, picks, [demo.heldout]).metric
        res_out = score_picks(prj, picks, [demo.foreign]).metric
        curve = r.metrics
        import shutil

        res_dir = Path(args.results) if args.results else Path(__file__).parent / "results"
        res_dir.mkdir(parents=True, exist_ok=True)
        if (r.out_dir / "curves.png").exists():
            shutil.copy(r.out_dir / "curves.png", res_dir / f"{name}_curves.png")
    md = header("Training on CPU: unet_v1 on a simulated 7-run project", "torch", "lightning", "cryo-train")
    md += (
        f"\nSimulated project (`cryo_train.demo.demo_project`): 7 runs of {tuple(args.shape)} voxels of 10 A drawn from the "
        f"{args.family} family (each run draws shapes, noise, optics, polarity, voxel size), 6 for training, {runs[-1]} held "
        f"out, and {demo.foreign} from the 'foreign' family (never trained on). unet_v1 (the 2nd place's widths), patch {tuple(args.roi)} normalised `{demo.normalization}` (prediction tiles alike, `demo_window`), batch 2, AdamW, 2nd-place loss, "
        f"lr {args.lr:g}, budget {args.minutes:g} min (wall {wall:.0f} s incl. validation). Held-out F-beta is the official metric.\n\n"
    )
    md += f"**Best held-out F-beta: {r.best_fbeta:.3f}** (validation, 7 views)\n\n"
    ratio = res_out.score / res_in.score if res_in.score > 0 else float("nan")
    md += (
        f"The best checkpoint, one view, post `full`: in family ({demo.heldout}) **{res_in.score:.3f}**, out of family "
        f"({demo.foreign}, 'foreign') **{res_out.score:.3f}**: {ratio:.2f}x (goal >= 0.9x). Measured on this project's "
        "own simulator families only.\n\n"
    )
    last = (
        curve.filter(curve["val_fbeta"].is_not_null()).sort("val_fbeta").tail(1)
        if "val_fbeta" in curve.columns
        else curve
    )
    md += "Per class at the best epoch:\n\n| class | F-beta |\n|---|---|\n"
    for c in curve.columns:
        if c.startswith("val_fbeta/"):
            md += f"| {c.split('/')[1]} | {last[c][0]:.3f} |\n"
    md += "\nLearning curve (epoch, training loss, held-out F-beta):\n\n| epoch | train loss | val F-beta |\n|---|---|---|\n"
    for row in curve.iter_rows(named=True):
        vf = row.get("val_fbeta")
        tl = row.get("train_loss_epoch")
        md += f"| {row['epoch']} | {tl if tl is None else f'{tl:.3f}'} | {'' if vf is None else f'{vf:.3f}'} |\n"
    md += f"\n![curves]({name}_curves.png)\n" + gpu_section()
    write_result(
        name,
        md,
        {"best_fbeta": r.best_fbeta, "wall_s": wall, "in_family": res_in.score, "out_of_family": res_out.score},
        args.results,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
