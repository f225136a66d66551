"""Errors that name the culprit. A gradient is never silently wrong or zero."""


class ChainruleError(Exception):
    """Base class for chainrule's own errors."""


class TracerEscapeError(ChainruleError):
    """A traced value was turned into a plain number or array, so its derivative would be lost.

    Deliberately not a TypeError: NumPy swallows TypeErrors from ``__float__`` during
    ``a[i] = x`` and retries, which would hide this message.
    """


class NoRuleError(ChainruleError, NotImplementedError):
    """A NumPy/SciPy function or a primitive argument has no derivative rule."""


class InPlaceError(ChainruleError, TypeError):
    """An in-place write would overwrite a value the tape still needs."""


class NotDifferentiableInputError(ChainruleError, TypeError):
    """Differentiation was asked for with respect to an integer or boolean input."""


class DisconnectedWarning(UserWarning):
    """A gradient was asked for with respect to an argument the output never depends on."""
