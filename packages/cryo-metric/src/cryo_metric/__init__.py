"""The CZII CryoET competition metric, exact and fast: weighted F-beta, per-class breakdown, threshold tuning."""

__version__ = "0.2.0"

from cryo_metric.particles import (
    BACKGROUND,
    CZII_PARTICLES,
    KAGGLE_COLUMNS,
    LAYOUT_6,
    LAYOUT_7,
    PICK_COLUMNS,
    PICK_SCHEMA,
    PICKS_SCHEMA,
    RECIPE,
    Particle,
    ParticleSet,
    class_layout,
    empty_picks,
)
from cryo_metric.score import ScoreResult, picks_table, score
from cryo_metric.tune import TuneResult, tune_thresholds

__all__ = [
    "BACKGROUND",
    "CZII_PARTICLES",
    "KAGGLE_COLUMNS",
    "LAYOUT_6",
    "LAYOUT_7",
    "PICK_COLUMNS",
    "PICK_SCHEMA",
    "PICKS_SCHEMA",
    "RECIPE",
    "Particle",
    "ParticleSet",
    "ScoreResult",
    "TuneResult",
    "class_layout",
    "empty_picks",
    "picks_table",
    "score",
    "tune_thresholds",
]
