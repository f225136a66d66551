"""``autograd.builtins``: autograd needs its own ``tuple``/``list``/``dict`` to differentiate
through containers and its own ``isinstance``/``type`` to see through its boxes. chainrule's
transforms accept any container (pytrees) and its traced values are what they are, so here
these are Python's own builtins; programs that import them run unchanged."""

import builtins as _builtins

tuple = _builtins.tuple  # noqa: A001
list = _builtins.list  # noqa: A001
dict = _builtins.dict  # noqa: A001
isinstance = _builtins.isinstance  # noqa: A001
type = _builtins.type  # noqa: A001

__all__ = ["tuple", "list", "dict", "isinstance", "type"]
