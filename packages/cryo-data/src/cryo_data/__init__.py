"""copick/OME-Zarr I/O, label painting, patch sampling and augmentation, and a synthetic tomogram simulator."""
__version__ = "0.1.0"
