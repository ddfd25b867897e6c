"""CI reproducibility: a tiny deterministic train -> infer -> score on simulated data, twice.

Fails when the two scores or pick tables differ, when the score is 0 (a check that cannot tell runs apart), or when the
score is further than TOLERANCE from the recorded value in
ci/repro_expected.json (recorded on this project's CI machine kind: 2-core x86_64 CPU, torch 2.13.0+cpu).
Run with --record to write a new expected value.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

TOLERANCE = 0.02  # different CPUs may round float32 convolutions differently; the two runs here must agree exactly
EXPECTED = Path(__file__).parent / "repro_expected.json"


def once(work: Path) -> float:
    from cryo_train.demo import DemoConfig, demo_predict, demo_project, demo_report, demo_train

    cfg = DemoConfig(
        runs=3,
        shape=(48, 96, 96),
        heldout_per_class=2,
        roi_size=(32, 64, 64),
        channels=(8, 16, 24, 24),
        steps=72,
        samples_per_volume=6,
        batch_size=2,
        val_every=6,
        seed=7,
        family="clean",  # the easy family: a tiny model finds some particles, so the score can tell runs apart
        test_family=None,
        normalization="patch",  # z-scored patches, clipped tiles: with the demo's `local` 72 steps find nothing (score 0)
        tile_normalization="robust",
    )
    prj = demo_project(work, cfg)
    fitted = demo_train(prj, work, cfg, progress=False)
    picks = demo_predict(prj, fitted, work, [cfg.heldout], progress=False, cfg=cfg)
    return demo_report(prj, picks, work, [cfg.heldout]).score, picks.sort("particle_type", "x", "y", "z").write_csv()


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
        (s1, p1), (s2, p2) = once(Path(a)), once(Path(b))
    print(f"repro: score run 1 = {s1!r}, run 2 = {s2!r}; picks {p1.count(chr(10)) - 1} and {p2.count(chr(10)) - 1}")
    if s1 != s2 or p1 != p2:
        print("repro: FAILED: the same seed gave different scores or picks")
        return 1
    if s1 == 0.0:
        print("repro: FAILED: score 0: the check could not tell two runs apart")
        return 1
    if "--record" in argv:
        EXPECTED.write_text(json.dumps({"score": s1, "tolerance": TOLERANCE}, indent=2) + "\n")
        print(f"repro: recorded {s1} in {EXPECTED}")
        return 0
    exp = json.loads(EXPECTED.read_text())["score"]
    if abs(s1 - exp) > TOLERANCE:
        print(f"repro: FAILED: score {s1} differs from the recorded {exp} by more than {TOLERANCE}")
        return 1
    print(f"repro: ok (recorded {exp}, tolerance {TOLERANCE})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
