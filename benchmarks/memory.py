"""Memory: peak resident memory of one gradient of a deep MLP.

A 100-layer tanh MLP (width 256, batch 1024, float64) and the gradient of
``0.5 * mean(h * h)`` with respect to every weight and bias. Each tool runs in a fresh
child process: after imports, data and one warm-up gradient, the kernel's peak-RSS mark is
reset (``/proc/self/clear_refs``) and the table reports how far one gradient raises it
(``VmHWM`` minus the resident size just before). That counts every allocator (NumPy,
PyTorch, XLA) the same way; it needs Linux.

The row "chainrule (checkpoint/10)" is the same gradient with ``chainrule.checkpoint`` around
each block of 10 layers (Chen et al. 2016: sqrt(n) blocks of sqrt(n) layers keep about
2 sqrt(n) activations for one extra forward pass); its time against the plain gradient is
the ``checkpoint`` workload. The peak includes the gradient itself (100 x 256 x 257 float64
numbers, 50.2 MiB), which no checkpointing can avoid. The two rows "..., beyond the gradient"
are those two peaks less the bytes of the gradient the call returned (counted from the returned
arrays): the memory a gradient keeps besides its result, the part checkpointing controls; the
last target is their ratio.

The children run with ``MALLOC_MMAP_THRESHOLD_=65536`` (unless set already): glibc then
returns every freed block over 64 KiB to the kernel at once, so the peak RSS is the
peak of live memory. With glibc's default (a threshold that grows as blocks are freed)
freed activations stay in the heap and the RSS peak reflects allocation order more than
what a library keeps alive (PyTorch's rises from about 210 MiB to 525 MiB here).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

import numpy as np

from ._harness import Case, Skip, Workload, available, gradient_runner

TOOLS = ("chainrule", "torch", "jax", "autograd", "mygrad")
CHECKPOINT_EVERY = 10  # layers per checkpointed block in the "chainrule-checkpoint" child


def make_data(layers, width, batch, seed=31337):
    rng = np.random.default_rng(seed)
    params = []
    for _ in range(layers):
        params += [rng.standard_normal((width, width)) / np.sqrt(width), 0.1 * rng.standard_normal(width)]
    x = rng.standard_normal((batch, width))
    return params, x


def loss(xp, params, x, block=None, every=CHECKPOINT_EVERY):
    """``block``: a wrapper applied to each run of ``every`` layers (a checkpoint)."""
    if block is not None:
        step = 2 * every
        run = block(lambda h, *ps: loss_layers(xp, ps, h))
        h = x
        for i in range(0, len(params), step):
            h = run(h, *params[i:i + step])
        return 0.5 * xp.mean(h * h)
    h = loss_layers(xp, params, x)
    return 0.5 * xp.mean(h * h)


def loss_layers(xp, params, h):
    for i in range(0, len(params), 2):
        h = xp.tanh(h @ params[i] + params[i + 1])
    return h


def gradient_fn(tool, params, x, every=CHECKPOINT_EVERY):
    """A function running one value-and-gradient of ``loss`` with ``tool``; returns arrays
    (``every``: the layers per checkpointed block of "chainrule-checkpoint")."""
    if tool == "chainrule-checkpoint":
        import chainrule
        import chainrule.numpy as cnp

        vg = chainrule.value_and_grad(lambda ps: loss(cnp, ps, x, block=chainrule.checkpoint,
                                                      every=every))
        return lambda: (lambda v, g: [v, *g])(*vg(params))
    if tool in TOOLS:  # JAX compiled, as the other workloads time it
        return gradient_runner(tool, lambda xp, logsumexp, ps, x: loss(xp, ps, x), params, (x,),
                               jit=tool == "jax")
    raise ValueError(tool)


def _status(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def child(tool: str, layers: int, width: int, batch: int, out_path: str,
          every: int = CHECKPOINT_EVERY) -> None:
    """Runs in a fresh process: warm up, reset the peak mark, run once, report."""
    import gc

    params, x = make_data(layers, width, batch)
    run = gradient_fn(tool, params, x, every)
    run()  # imports, thread pools, caches (and JAX's compile), as for the timings
    gc.collect()
    base = _status("VmRSS")
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # reset VmHWM to the current resident size
    result = run()
    peak = _status("VmHWM") - base
    np.savez(out_path, *[np.asarray(r, dtype=np.float64) for r in result])
    print(json.dumps({"peak": peak}))


def _measure(tool, layers, width, batch, every=CHECKPOINT_EVERY):
    if not available(tool.split("-")[0]):
        raise Skip(f"{tool} is not installed")
    if not os.path.exists("/proc/self/clear_refs"):
        raise Skip("needs Linux /proc (VmHWM reset)")
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "result.npz")
        env = dict(os.environ)
        env.setdefault("MALLOC_MMAP_THRESHOLD_", "65536")  # peak RSS = peak live memory
        env["PYTHONPATH"] = os.pathsep.join(
            [os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
             os.environ.get("PYTHONPATH", "")])
        proc = subprocess.run([sys.executable, "-m", "benchmarks._memory_child", tool, str(layers),
                               str(width), str(batch), path, str(every)],
                              capture_output=True, text=True, env=env, timeout=900)
        if proc.returncode != 0:
            raise RuntimeError(f"{tool} memory child failed:\n{proc.stderr[-3000:]}")
        peak = json.loads(proc.stdout.strip().splitlines()[-1])["peak"]
        with np.load(path) as z:
            arrays = [z[f"arr_{i}"] for i in range(len(z.files))]
    return peak, arrays


def cases(layers, width, batch) -> list[Case]:
    out = []
    rows = [(tool, tool, "") for tool in TOOLS]
    rows.insert(1, ("chainrule", "chainrule-checkpoint",
                    f"checkpoint every {CHECKPOINT_EVERY} layers"))  # "chainrule (checkpoint/10)"
    for tool, child_tool, note in rows:
        label = "chainrule (checkpoint/10)" if child_tool == "chainrule-checkpoint" else None
        case = Case(tool, None, label=label, note=note)

        def run(case=case, child_tool=child_tool, note=note):
            case.measured["peak"], arrays = _measure(child_tool, layers, width, batch)
            case.measured["gradient"] = sum(a.nbytes for a in arrays[1:])
            # the result itself (value and gradient) is part of every peak: say what is left
            rest = (case.measured["peak"] - sum(a.nbytes for a in arrays)) / 2**20
            case.note = "; ".join(filter(None, [note, f"{rest:.1f} MiB besides the result"]))
            return arrays
        case.run = run
        out.append(case)
    out[2:2] = [_beyond_gradient(case) for case in out[:2]]  # after the two chainrule rows
    return out


def _beyond_gradient(source: Case) -> Case:
    """A row derived from ``source``'s measurement (run just before it, no new process): its
    peak less the bytes of the gradient it returned. Not compared: it computes nothing."""
    case = Case(source.tool, None, label=f"{source.name}, beyond the gradient", compare=False)

    def run():
        if "peak" not in source.measured:  # the source row was skipped
            raise Skip(f"{source.name} did not run")
        grad = source.measured["gradient"]
        case.measured["peak"] = source.measured["peak"] - grad
        case.note = f"its peak less the returned gradient's {grad / 2**20:.1f} MiB"
        return []
    case.run = run
    return case


WORKLOAD = Workload(
    name="memory",
    title="Peak memory: gradient of a {layers}-layer tanh MLP (width {width}, batch {batch})",
    sizes={"tiny": {"layers": 4, "width": 8, "batch": 5},
           "full": {"layers": 100, "width": 256, "batch": 1024}},
    cases=cases,
    rtol=1e-8,
    metric="peak",
    targets=(("peak memory vs PyTorch", "chainrule", "torch", 1.0),
             ("peak memory, checkpoint every 10 layers vs none", "chainrule (checkpoint/10)",
              "chainrule", 0.25),
             ("peak beyond the returned gradient, checkpoint every 10 layers vs none",
              "chainrule (checkpoint/10), beyond the gradient", "chainrule, beyond the gradient",
              0.25)),
    doc=__doc__,
)
