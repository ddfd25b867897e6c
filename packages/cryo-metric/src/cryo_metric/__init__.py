"""The CZII CryoET competition metric, exact and fast: weighted F-beta, per-class breakdown, threshold tuning."""
__version__ = "0.1.0"

from cryo_metric.particles import CZII_PARTICLES, Particle, ParticleSet
from cryo_metric.score import ScoreResult, read_picks, score
from cryo_metric.tune import TuneResult, tune_thresholds

__all__ = ["CZII_PARTICLES", "Particle", "ParticleSet", "ScoreResult", "TuneResult", "read_picks", "score", "tune_thresholds"]
