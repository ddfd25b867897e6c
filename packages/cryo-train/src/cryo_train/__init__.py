"""The 2nd-place training recipe (Lightning): configs, folds, resume, multi-GPU, scored by the real metric."""
__version__ = "0.2.0"
