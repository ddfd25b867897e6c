"""The eight 3D segmentation architectures of the 2nd-place CZII solution, a registry and checkpoint loading."""
__version__ = "0.1.0"
