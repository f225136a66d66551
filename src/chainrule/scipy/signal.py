"""``chainrule.scipy.signal``: SciPy's convolution and correlation, differentiable in both inputs."""

from ..rules.signal import convolve, convolve2d, correlate, correlate2d, fftconvolve, oaconvolve

__all__ = ["convolve", "correlate", "convolve2d", "correlate2d", "fftconvolve", "oaconvolve"]
