"""The eight 3D segmentation architectures of the 2nd-place CZII solution, a registry and checkpoint loading."""

__version__ = "0.2.0"

from cryo_metric.particles import class_layout

from cryo_models.checkpoint import (
    ENCODERS,
    NORMALIZATIONS,
    TRAINABLE_NORMALIZATIONS,
    CheckpointInfo,
    CheckpointMismatchError,
    InitReport,
    freeze_encoder,
    init_from_checkpoint,
    load_checkpoint,
    normalise,
    safe_load,
    save_checkpoint,
)
from cryo_models.registry import ARCHITECTURES, RECIPE_ENSEMBLES, check_input_size, create_model, seed_table

__all__ = [
    "ARCHITECTURES",
    "ENCODERS",
    "NORMALIZATIONS",
    "RECIPE_ENSEMBLES",
    "TRAINABLE_NORMALIZATIONS",
    "CheckpointInfo",
    "CheckpointMismatchError",
    "InitReport",
    "check_input_size",
    "class_layout",
    "create_model",
    "freeze_encoder",
    "init_from_checkpoint",
    "load_checkpoint",
    "normalise",
    "safe_load",
    "save_checkpoint",
    "seed_table",
]
