"""Shared test helpers: batched-vs-single passes and random inputs."""

from __future__ import annotations

import numpy as np

from chainrule.core.pytree import tree_flatten
from chainrule.core.transforms import linearize_reverse, push_forward


def check_batched(f, *args, atol=1e-10):
    """One pass with a batch of identity cotangents (tangents) == one pass per row.

    This is what makes Jacobians one vectorised pass: every rule must let leading
    batch axes on g / t pass through.
    """
    lin, _, _, _ = linearize_reverse(f, args)
    outs = lin.out_values
    for k, o in enumerate(outs):
        n = int(np.size(o))
        cts = [np.eye(n).reshape((n,) + np.shape(o)) if j == k else np.zeros((n,) + np.shape(oj))
               for j, oj in enumerate(outs)]
        batched = lin.pull(cts, batch=(n,))
        for r in range(n):
            single = lin.pull([c[r] for c in cts])
            for b, s in zip(batched, single):
                np.testing.assert_allclose(np.asarray(b)[r], s, atol=atol,
                                           err_msg=f"batched VJP row {r} of output {k}")
    leaves, td = tree_flatten(args)
    for k, x in enumerate(leaves):
        n = int(np.size(x))
        tans = [np.eye(n).reshape((n,) + np.shape(x)) if j == k else np.zeros((n,) + np.shape(xj))
                for j, xj in enumerate(leaves)]
        from chainrule.core.pytree import tree_unflatten
        _, t_batched, _ = push_forward(f, args, tree_unflatten(td, tans), batch=(n,))
        tb = tree_flatten(t_batched)[0]
        for r in range(n):
            _, t_single, _ = push_forward(f, args, tree_unflatten(td, [t[r] for t in tans]))
            for b, s in zip(tb, tree_flatten(t_single)[0]):
                np.testing.assert_allclose(np.asarray(b)[r], s, atol=atol,
                                           err_msg=f"batched JVP row {r} of input {k}")
