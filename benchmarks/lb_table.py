"""The 12-model table of the 2nd place, reproduced: each row with 7 TTA and the 2nd place's post-processing, plus the three
final ensembles (2nd-place-7, submit7, 2nd-place-10), scored on a public and a private split, beside the reported leaderboard scores.

    python benchmarks/lb_table.py --checkpoint-dir DIR --public P --private Q [--device cuda] [--amp fp16] [--work DIR]

DIR holds the 12 published checkpoints under their original names (Kaggle dataset sjtuwangshuo/czii2024-best-ckpts); it
is checked first (every file present, each loads strictly; size and sha256 go into the results). P and Q are each a
Kaggle-layout folder, a copick config or a data-portal config written by `cryo-data portal` (e.g. datasets 10445 and
10446), with ground truth (`--truth-user/--truth-session`, default: the config's, else curation/0).

Per tomogram each model runs once: its probabilities give its own row's picks and are added into each ensemble that
holds it (equal weights, the 2nd place's mean of softmax maps); maps are never stored. Each tomogram's picks go to
WORK/picks/<split>/<run>.csv as soon as they exist, so a killed run resumes where it stopped.
Without the inputs the script says what is missing, then runs the same harness on a SIMULATED split with checkpoints it
trains quickly itself (clearly labelled).

`--fake` is the dry run of the real thing (benchmarks/gpu_check.sh runs it with --device cuda): 12 FAKE checkpoints in
the 2nd place's own format (Lightning `state_dict` with its `model.` prefixes and `loss_fn` keys, random weights, the
original file names) and a Kaggle-layout simulated set of three full-size runs (train/static/ExperimentRuns/...,
train/overlay/...) as the public split; the private split is the same three runs read back through the per-tomogram
picks cache (the resume path). The scores mean nothing; that it runs end to end on the device is the point.

    python benchmarks/lb_table.py --fake --device cuda --amp fp16 --tta identity --speed fast --work /tmp/lb
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import header, write_result  # noqa: E402

HOW_TO_GET = """\
To reproduce the real table you need:
  1. the 12 published checkpoints: `kaggle datasets download sjtuwangshuo/czii2024-best-ckpts` (unzip into DIR);
  2. the scored test data with annotations: CZ cryoET Data Portal datasets 10445 (public split) and 10446 (private
     split), e.g. `cryo-data portal --datasets 10445 --overlay pub_overlay --out public.json` (needs network);
  3. a GPU: 12 models x 7 TTA on ~500 tomograms (about 650 TFLOP per tomogram for the 10-model ensemble).
Then: python benchmarks/lb_table.py --device cuda --amp fp16 --checkpoint-dir DIR --public public.json --private private.json
"""


FIXTURES = Path(__file__).resolve().parents[1] / "packages" / "cryo-models" / "tests" / "fixtures" / "seed_models"


def fake_checkpoints(folder: Path, fixtures: Path = FIXTURES) -> list[Path]:
    """The 12 checkpoints of the table under their original names, in the 2nd place's format (Lightning `state_dict`
    with `model.` prefixes and a `loss_fn` key), random weights from the reference state_dict signatures."""
    import json

    import torch
    from cryo_models import seed_table

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for r in seed_table().iter_rows(named=True):
        ref = json.loads((Path(fixtures) / f"{r['arch']}.json").read_text())
        g = torch.Generator().manual_seed(r["no"])
        sd = {}
        for key, shape, dtype in ref["state_dict"]:
            sd[f"model.{key}"] = (
                torch.zeros(shape, dtype=torch.int64)
                if dtype == "int64"
                else 0.05 * torch.randn(shape, generator=g) + (1.0 if key.endswith("running_var") else 0.0)
            )
        sd["loss_fn.ce.weight"] = torch.ones(r["n_classes"])
        torch.save({"epoch": 1, "state_dict": sd}, folder / r["checkpoint"])
        out.append(folder / r["checkpoint"])
    return out


def fake_kaggle_set(folder: Path, runs: int = 3, shape=(184, 630, 630), seed: int = 500, crowding: float = 1.0) -> Path:
    "A Kaggle-layout simulated set (train/static, train/overlay) of `runs` runs of `shape`; returns its train/ folder."
    from cryo_data.simproject import simulate_project

    return simulate_project(
        Path(folder), runs=runs, shape=tuple(shape), seed=seed, kaggle=True, progress=False, crowding=crowding
    )


def check_folder(ckpt_dir: Path, device: str = "cpu") -> list[dict]:
    """Every checkpoint of the table present and strictly loadable, before anything is computed; size and sha256 of each."""
    from cryo_models import load_checkpoint, seed_table

    rows = list(seed_table().iter_rows(named=True))
    missing = [r["checkpoint"] for r in rows if not (ckpt_dir / r["checkpoint"]).is_file()]
    if missing:
        raise FileNotFoundError(f"{len(missing)} of {len(rows)} checkpoint(s) missing in {ckpt_dir}: {missing}")
    out, bad = [], []
    for r in rows:
        p = ckpt_dir / r["checkpoint"]
        h = hashlib.sha256()
        with open(p, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        try:
            load_checkpoint(p, name=r["arch"], map_location="cpu")
        except Exception as e:
            bad.append(f"row {r['no']} {r['checkpoint']}: {type(e).__name__}: {str(e)[:300]}")
        out.append(
            {
                "no": r["no"],
                "arch": r["arch"],
                "checkpoint": r["checkpoint"],
                "bytes": p.stat().st_size,
                "sha256": h.hexdigest(),
            }
        )
    if bad:
        raise ValueError("checkpoint(s) that do not load strictly:\n  " + "\n  ".join(bad))
    return out


def _labels():
    from cryo_models import RECIPE_ENSEMBLES, seed_table

    rows = list(seed_table().iter_rows(named=True))
    return (
        rows,
        {f"{r['no']} {r['arch']}": r for r in rows},
        {f"ensemble {n} (rows {','.join(map(str, ix))})": ix for n, ix in RECIPE_ENSEMBLES.items()},
    )


def predict_split(
    models: dict,
    project,
    work: Path,
    split: str,
    window,
    tta,
    post,
    device,
    amp,
    tomo_type="denoised",
    log=print,
    speed_kwargs: dict | None = None,
) -> pl.DataFrame:
    """Picks of every row and ensemble on every run of `project` (column `model`), one tomogram at a time, resumable."""
    import numpy as np
    import polars as pl
    from cryo_data.picks import atomic_write_text
    from cryo_infer.postprocess import probs_to_picks
    from cryo_infer.predict import predict_volume

    rows, row_labels, ens = _labels()
    particles = project.particles
    done_dir = work / "picks" / split
    runs = project.runs()
    frames, t_start, n_new = [], time.time(), 0
    for k, run in enumerate(runs):
        f = done_dir / f"{run}.csv"
        if f.exists():
            frames.append(pl.read_csv(f, schema_overrides={"run": pl.String}))
            log(f"[{split}] {k + 1}/{len(runs)} {run}: cached")
            continue
        t0 = time.time()
        tomo = project.tomogram(run, tomo_type)
        acc = {label: None for label in ens}
        picks = []
        for label, r in row_labels.items():
            kw = {"amp": amp, **(speed_kwargs or {})}  # a speed preset's settings win
            probs = predict_volume(
                [models[r["no"]]], tomo.array, window, tta, "softmax", device, progress=False, particles=particles, **kw
            )
            picks.append(
                probs_to_picks(probs, tomo.voxel_size_A, post, run=run, particles=particles).with_columns(
                    model=pl.lit(label)
                )
            )
            for e, ix in ens.items():
                if r["no"] in ix:
                    acc[e] = probs.copy() if acc[e] is None else np.add(acc[e], probs, out=acc[e])
            del probs
        for e, ix in ens.items():
            picks.append(
                probs_to_picks(acc[e] / len(ix), tomo.voxel_size_A, post, run=run, particles=particles).with_columns(
                    model=pl.lit(e)
                )
            )
            acc[e] = None
        df = pl.concat(picks)
        atomic_write_text(f, df.write_csv(), overwrite=True)  # last: marks the tomogram done
        frames.append(df)
        n_new += 1
        el = time.time() - t_start
        log(
            f"[{split}] {k + 1}/{len(runs)} {run}: {len(df)} picks, 12 models in {time.time() - t0:.1f} s; "
            f"ETA {el / n_new * (len(runs) - k - 1) / 60:.1f} min"
        )
    return pl.concat(frames) if frames else pl.DataFrame()


def score_split(project, picks, truth_user=None, truth_session=None) -> dict:
    """F-beta of each row and ensemble against the project's ground truth (every run counts, pick or not)."""
    import polars as pl
    from cryo_data.picks import TRUTH
    from cryo_infer.evaluate import score_picks

    _, row_labels, ens = _labels()
    u = TRUTH if truth_user is None else truth_user
    s = TRUTH if truth_session is None else (None if truth_session == "*" else truth_session)
    return {
        label: score_picks(
            project, picks.filter(pl.col("model") == label).drop("model") if len(picks) else picks, project.runs(), u, s
        ).score
        for label in list(row_labels) + list(ens)
    }


def _check_manifest(work: Path, settings: dict) -> None:
    """Cached picks are only reused with the settings that made them."""
    import json

    from cryo_data.picks import atomic_write_text

    man, text = work / "settings.json", json.dumps(settings, indent=1, sort_keys=True)
    if man.exists() and man.read_text() != text:
        raise FileExistsError(
            f"{work} holds picks made with other settings ({man}); choose another --work or delete it"
        )
    atomic_write_text(man, text, overwrite=True)


def run_table(
    ckpt_dir: Path,
    public,
    private,
    tta="2nd-place",
    post="2nd-place-parity",
    window=None,
    log=print,
    device="cpu",
    amp=None,
    work: Path | None = None,
    truth_user=None,
    truth_session=None,
    tomo_type="denoised",
    checked=None,
    speed: str = "exact",
    reuse_public_for_private: bool = False,
):
    """Rows: (label, public, private, reported public, reported private); checkpoints checked first."""
    from cryo_infer.predict import Member, apply_speed_preset
    from cryo_infer.window import RECIPE_WINDOW
    from cryo_models import load_checkpoint

    window = window or RECIPE_WINDOW
    if post == "2nd-place-parity":
        window = replace(window, input_dtype="float16")  # the 2nd place's float16 tomogram
    window, speed_kwargs = apply_speed_preset(window, speed)
    ck = checked or check_folder(Path(ckpt_dir))  # every file present and loading strictly, before anything is computed
    rows, row_labels, ens = _labels()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(work) if work is not None else Path(tmp)
        _check_manifest(
            work,
            {
                "checkpoints": [c["sha256"] for c in ck],
                "tta": list(tta) if not isinstance(tta, str) else tta,
                "post": post,
                "window": repr(window),
                "amp": amp,
                "tomo_type": tomo_type,
                **({"speed": speed} if speed != "exact" else {}),
            },
        )
        models = {
            r["no"]: Member(
                load_checkpoint(Path(ckpt_dir) / r["checkpoint"], name=r["arch"], map_location=device),
                name=r["checkpoint"],
            )
            for r in rows
        }
        res = {}
        for split, prj in (("public", public), ("private", private)):
            if split == "private" and reuse_public_for_private:  # the same runs: read back through the resume cache
                import shutil

                (work / "picks" / "private").mkdir(parents=True, exist_ok=True)
                for f in (work / "picks" / "public").glob("*.csv"):
                    shutil.copy(f, work / "picks" / "private" / f.name)
            picks = predict_split(
                models, prj, work, split, window, tta, post, device, amp, tomo_type, log, speed_kwargs
            )
            res[split] = score_split(prj, picks, truth_user, truth_session)
    out = [
        (label, res["public"][label], res["private"][label], r["public_lb"], r["private_lb"])
        for label, r in row_labels.items()
    ]
    out += [(label, res["public"][label], res["private"][label], None, None) for label in ens]
    for o in out:
        log(f"{o[0]:<40} public {o[1]:.5f} private {o[2]:.5f}")
    return out


def to_markdown(rows, simulated: bool) -> str:
    md = (
        "| model | public F-beta (ours) | private F-beta (ours) | public (reported) | private (reported) | "
        "public diff | private diff |\n|---|---|---|---|---|---|---|\n"
    )
    for label, pub, prv, rp, rv in rows:
        if rp is None or simulated:
            md += f"| {label} | {pub:.5f} | {prv:.5f} | {'' if rp is None else rp} | {'' if rv is None else rv} | | |\n"
        else:
            md += f"| {label} | {pub:.5f} | {prv:.5f} | {rp} | {rv} | {pub - rp:+.5f} | {prv - rv:+.5f} |\n"
    return md


def simulated_fallback(work: Path, epochs_per_model: int, log=print):
    """Train one quick checkpoint per table row on a simulated project; return (ckpt_dir, public, private)."""
    import shutil

    from cryo_data.io import open_project
    from cryo_data.simproject import simulate_project
    from cryo_models import seed_table
    from cryo_train.config import TrainConfig, apply_overrides
    from cryo_train.fit import fit

    train = open_project(
        simulate_project(work / "train", runs=3, shape=(64, 128, 128), seed=200, crowding=3.0, progress=False)
    )
    public = open_project(
        simulate_project(work / "public", runs=1, shape=(64, 128, 128), seed=300, crowding=3.0, progress=False)
    )
    private = open_project(
        simulate_project(work / "private", runs=1, shape=(64, 128, 128), seed=400, crowding=3.0, progress=False)
    )
    ckpts = work / "ckpts"
    ckpts.mkdir()
    for r in seed_table().iter_rows(named=True):
        cfg = apply_overrides(
            TrainConfig(),
            [
                f"model.name={r['arch']}",
                "data.roi_size=[32,64,64]",
                "data.tomo_types=[denoised]",
                "data.samples_per_volume=4",
                "val.post=full",
                "val.every_n_epochs=1000",
                f"trainer.max_epochs={epochs_per_model}",
                f"trainer.seed={r['no']}",
            ],
        )
        fit(cfg, train, train.runs()[-1:], work / f"fit_{r['no']}", progress=False)
        shutil.copy(work / f"fit_{r['no']}" / "checkpoints" / "last.ckpt", ckpts / r["checkpoint"])
        log(f"trained row {r['no']} ({r['arch']}) for {epochs_per_model} epochs")
    return ckpts, public, private


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--checkpoint-dir",
        dest="checkpoints",
        help="folder of the 2nd place's published checkpoints (old spelling --checkpoints: deprecated)",
    )
    ap.add_argument("--checkpoints", dest="legacy_checkpoints", help=argparse.SUPPRESS)
    ap.add_argument("--public")
    ap.add_argument("--private")
    ap.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N (default: cpu)")
    ap.add_argument(
        "--amp",
        default=None,
        choices=["fp16", "bf16", "half", "none"],
        help="GPU precision: fp16/bf16 autocast, or half (the 2nd place's .half() models, float16 accumulation)",
    )
    ap.add_argument(
        "--work",
        default=None,
        help="folder for the per-tomogram picks (resume) and Kaggle work files "
        "(default: benchmarks/results/tmp/lb_table)",
    )
    ap.add_argument("--truth-user", default=None)
    ap.add_argument("--truth-session", default=None)
    ap.add_argument("--tomo-type", default="denoised")
    ap.add_argument(
        "--roi", type=int, nargs=3, default=None, metavar=("Z", "Y", "X"), help="tile size (default: the 2nd place's)"
    )
    ap.add_argument("--tta", default="2nd-place", help="'2nd-place' (7 views) or comma-separated view names")
    ap.add_argument("--post", default="2nd-place-parity")
    ap.add_argument(
        "--epochs-per-model", type=int, default=3, help="simulated fallback: training epochs per row (4 steps each)"
    )
    ap.add_argument("--results", default=None)
    ap.add_argument("--speed", default="exact", help="speed preset of cryo_infer.predict.SPEED_PRESETS (default exact)")
    ap.add_argument(
        "--fake",
        action="store_true",
        help="dry run: 12 fake 2nd-place-format checkpoints and a Kaggle-layout simulated set (see above)",
    )
    ap.add_argument("--fake-runs", type=int, default=3, help="--fake: runs in the Kaggle-layout set")
    ap.add_argument(
        "--fake-shape", type=int, nargs=3, default=[184, 630, 630], metavar=("Z", "Y", "X"), help="--fake: run shape"
    )
    ap.add_argument("--fake-crowding", type=float, default=1.0, help="--fake: particles relative to a real run")
    ap.add_argument(
        "--prepare-only",
        action="store_true",
        help="--fake: only write the fake checkpoints and the Kaggle-layout set into --work (e.g. on the CPU cores "
        "while the GPU does something else), then stop; a later --fake run with the same --work reuses them",
    )
    args = ap.parse_args(argv)
    if args.legacy_checkpoints is not None:
        print(
            "lb_table.py: warning: --checkpoints is deprecated and will be removed in the next release; "
            "use --checkpoint-dir",
            file=sys.stderr,
        )
        args.checkpoints = args.checkpoints or args.legacy_checkpoints
    from cryo_infer.predict import SPEED_PRESETS

    if args.speed not in SPEED_PRESETS:
        ap.error(f"unknown --speed {args.speed!r}; choose from {list(SPEED_PRESETS)}")
    if args.fake:
        return _fake_main(args)
    from cryo_data.io import open_project
    from cryo_infer.window import RECIPE_WINDOW
    from cryo_metric.particles import preset_name

    args.tta, args.post = preset_name(args.tta, "--tta"), preset_name(args.post, "--post")  # earlier names still read
    amp = None if args.amp in (None, "none") else args.amp
    tta = "2nd-place" if args.tta == "2nd-place" else tuple(t.strip() for t in args.tta.split(","))
    window = replace(RECIPE_WINDOW, roi_size=tuple(args.roi)) if args.roi else None
    missing = [
        n for n in ("checkpoints", "public", "private") if not getattr(args, n) or not Path(getattr(args, n)).exists()
    ]
    md = header("The 12-model table of the 2nd place", "cryo-infer", "cryo-models", "torch")
    if not missing:
        work = Path(args.work or Path(__file__).parent / "results" / "tmp" / "lb_table")
        ck = check_folder(Path(args.checkpoints))  # before opening data or computing anything
        print(f"lb_table: {len(ck)} checkpoints present and loading strictly", flush=True)
        prj = [
            open_project(
                getattr(args, s), work / f"{s}_kaggle", truth_user=args.truth_user, truth_session=args.truth_session
            )
            for s in ("public", "private")
        ]
        rows = run_table(
            Path(args.checkpoints),
            prj[0],
            prj[1],
            tta,
            args.post,
            window,
            device=args.device,
            amp=amp,
            work=work,
            truth_user=args.truth_user,
            truth_session=args.truth_session,
            tomo_type=args.tomo_type,
            checked=ck,
            speed=args.speed,
        )
        md += (
            f"\nReal checkpoints, real data, device {args.device}, precision {amp or 'float32'}. TTA {args.tta}, "
            f"tiles {window.roi_size if window else RECIPE_WINDOW.roi_size}, post-processing {args.post}.\n\n"
            + to_markdown(rows, False)
            + "\nCheckpoints:\n\n| row | arch | file | bytes | sha256 |\n|---|---|---|---|---|\n"
            + "".join(f"| {c['no']} | {c['arch']} | {c['checkpoint']} | {c['bytes']} | `{c['sha256']}` |\n" for c in ck)
        )
        write_result("lb_table", md, {"rows": rows, "checkpoints": ck}, args.results)
        return 0
    print(
        f"lb_table: missing {', '.join('--' + m for m in missing)}.\n{HOW_TO_GET}\nRunning the same harness on a SIMULATED "
        "split with checkpoints trained here for a few seconds each instead.",
        flush=True,
    )
    with tempfile.TemporaryDirectory() as d:
        ckpts, public, private = simulated_fallback(Path(d), args.epochs_per_model)
        from cryo_infer.window import WindowConfig

        rows = run_table(
            ckpts, public, private, window=WindowConfig(roi_size=(64, 128, 128)), device=args.device, amp=amp
        )
    md += (
        "\n**SIMULATED**: the real checkpoints or data are missing, so this table comes from the same harness run on a "
        f"simulated public/private split (1 + 1 runs of 64x128x128) with one checkpoint per row trained here for "
        f"{args.epochs_per_model} epochs of 4 steps (batch 2, 32x64x64) on CPU. The reported columns are the 2nd place's leaderboard scores for reference "
        "only; the numbers are not comparable.\n\n"
        + HOW_TO_GET.replace("\n", "\n\n", 1)
        + "\n"
        + to_markdown(rows, True)
    )
    write_result("lb_table", md, {"rows": rows, "simulated": True}, args.results)
    return 0


def _fake_main(args) -> int:
    "The --fake dry run: fake checkpoints, a Kaggle-layout simulated set as both splits, the whole harness."
    from cryo_data.io import open_project
    from cryo_infer.window import RECIPE_WINDOW
    from cryo_metric.particles import preset_name

    t0 = time.time()
    work = Path(args.work or Path(tempfile.mkdtemp(prefix="lb_fake_")))
    work.mkdir(parents=True, exist_ok=True)
    ckpts = work / "fake_ckpts"
    fake_checkpoints(ckpts)
    kaggle = work / "fake_kaggle"
    train = (
        kaggle / "train"
        if (kaggle / "train").is_dir()
        else fake_kaggle_set(kaggle, args.fake_runs, args.fake_shape, crowding=args.fake_crowding)
    )
    print(
        f"lb_table --fake: 12 fake checkpoints and {args.fake_runs} Kaggle-layout runs ready in {time.time() - t0:.0f} s"
    )
    if args.prepare_only:
        return 0
    prj = open_project(train, work / "kaggle_work")
    tta = (
        "2nd-place" if preset_name(args.tta, "--tta") == "2nd-place" else tuple(t.strip() for t in args.tta.split(","))
    )
    window = replace(RECIPE_WINDOW, roi_size=tuple(args.roi)) if args.roi else None
    amp = None if args.amp in (None, "none") else args.amp
    rows = run_table(
        ckpts,
        prj,
        prj,
        tta,
        preset_name(args.post, "--post"),
        window,
        device=args.device,
        amp=amp,
        work=work,
        speed=args.speed,
        reuse_public_for_private=True,
    )
    md = header("The 12-model table harness: FAKE dry run", "cryo-infer", "cryo-models", "torch")
    md += (
        f"\n**FAKE**: 12 random-weight checkpoints in the 2nd place's format and a Kaggle-layout simulated set of "
        f"{args.fake_runs} runs of {tuple(args.fake_shape)} (public; private = the same runs through the picks cache). "
        f"Scores mean nothing: the harness ran end to end on {args.device} in {time.time() - t0:.0f} s (precision "
        f"{amp or 'float32'}, speed preset {args.speed}, TTA {args.tta}, tiles "
        f"{window.roi_size if window else RECIPE_WINDOW.roi_size}).\n\n" + to_markdown(rows, True)
    )
    write_result(
        "lb_table", md, {"rows": rows, "fake": True, "seconds": time.time() - t0, "device": args.device}, args.results
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
