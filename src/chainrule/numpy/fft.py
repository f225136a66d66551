"""``chainrule.numpy.fft``: ``numpy.fft``, differentiable (both modes, any order).

These are also what plain ``np.fft.fft(x)`` etc. dispatch to on a traced ``x``; the rules
are in :mod:`chainrule.rules.fft`. ``fftfreq`` and ``rfftfreq`` are NumPy's (constants).
"""

from ..rules.fft import (  # noqa: F401
    fft,
    fft2,
    fftfreq,
    fftn,
    fftshift,
    hfft,
    ifft,
    ifft2,
    ifftn,
    ifftshift,
    ihfft,
    irfft,
    irfft2,
    irfftn,
    rfft,
    rfft2,
    rfftfreq,
    rfftn,
)
