"""copick/OME-Zarr I/O, label painting, picks tables and files, and a synthetic tomogram simulator (no torch)."""
__version__ = "0.2.0"
