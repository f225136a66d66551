"""``autograd.test_util``: ``check_grads(fun, argnum=0, modes=["fwd", "rev"], order=2)(*args)``
with autograd's signature, over chainrule's checker (central differences, both modes, every
order up to ``order``, and batched passes)."""

from ..gradcheck import check_grads as _check_grads


def check_grads(fun, argnum=0, modes=("fwd", "rev"), order=2, **kwargs):
    """Check ``fun``'s derivatives in argument ``argnum`` (an int, or a tuple of them)."""
    def checker(*args, **fun_kwargs):
        nums = (argnum,) if isinstance(argnum, int) else tuple(argnum)

        def of_some(*xs):
            full = list(args)
            for i, x in zip(nums, xs, strict=True):
                full[i] = x
            return fun(*full, **fun_kwargs)
        return _check_grads(of_some, modes=tuple(modes), order=order, **kwargs)(*[args[i] for i in nums])
    return checker


__all__ = ["check_grads"]
