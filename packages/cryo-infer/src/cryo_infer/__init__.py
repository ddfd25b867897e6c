"""Sliding-window + TTA inference, ensembling, post-processing to picks, batch runs over many tomograms."""
__version__ = "0.2.0"
