"""Data-parallel gradients of sum-over-data losses on Dask.

For E(w) = sum_n E_n(w) (Bishop 8.1) the gradient splits over any partition of the
data: grad E = sum_chunks grad E_chunk. Each Dask task runs chainrule's ordinary
``value_and_grad`` on one block of rows; the per-block results are added in a tree
reduction, so no worker ever holds more than its block plus one gradient.

    import dask.array as da
    X = da.from_array(X_np, chunks=(10_000, -1))
    T = da.from_array(T_np, chunks=(10_000,))
    loss, grads = chainrule.distributed.value_and_grad(batch_loss, params, X, T)

``batch_loss(params, X_block, T_block)`` must return the *sum* (not the mean) over the
block's rows; divide by ``n`` afterwards if you want a mean. Pass ``client=`` a
``dask.distributed.Client`` to run on a cluster; by default Dask's local scheduler runs
the blocks in parallel threads.
"""

from __future__ import annotations

from ..core.pytree import tree_map
from ..transforms import value_and_grad as _value_and_grad

__all__ = ["value_and_grad", "grad"]


def _require_dask():
    try:
        import dask
        import dask.array as da
    except ModuleNotFoundError:  # pragma: no cover - exercised only without the extra
        raise ModuleNotFoundError(
            "chainrule.distributed needs Dask: pip install 'chainrule[distributed]'") from None
    return dask, da


def _blocks(arrays):
    """Row blocks of each array, aligned to the first array's row chunks."""
    _, da = _require_dask()
    arrays = [a if isinstance(a, da.Array) else da.from_array(a) for a in arrays]
    n = arrays[0].shape[0]
    for a in arrays[1:]:
        if a.shape[0] != n:
            raise ValueError(f"all data arrays must have the same number of rows: {n} vs {a.shape[0]}")
    rows = arrays[0].chunks[0]
    arrays = [a.rechunk({0: rows, **{i: -1 for i in range(1, a.ndim)}}) for a in arrays]
    return [[blk for blk in a.to_delayed().ravel()] for a in arrays]


def value_and_grad(loss, params, *data, client=None, split_every: int = 8):
    """``(E, dE/dparams)`` for ``E = sum over row blocks of loss(params, *block)``, computed on Dask."""
    dask, _ = _require_dask()
    block_lists = _blocks(data)
    vg = _value_and_grad(loss)
    parts = [dask.delayed(vg)(params, *blocks) for blocks in zip(*block_lists)]
    total = _tree_sum(dask, parts, split_every)
    if client is not None:
        return client.compute(total).result()
    return total.compute()


def grad(loss, params, *data, client=None, split_every: int = 8):
    """``dE/dparams`` only (see :func:`value_and_grad`)."""
    return value_and_grad(loss, params, *data, client=client, split_every=split_every)[1]


def _add(*results):
    value = sum(r[0] for r in results)
    grads = results[0][1]
    for r in results[1:]:
        grads = tree_map(lambda a, b: a + b, grads, r[1])
    return value, grads


def _tree_sum(dask, parts, split_every):
    """Add delayed (value, grads) pairs ``split_every`` at a time, so no task sums them all."""
    while len(parts) > 1:
        parts = [dask.delayed(_add)(*parts[i:i + split_every]) for i in range(0, len(parts), split_every)]
    return parts[0]
