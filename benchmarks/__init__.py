"""Side-by-side benchmarks of chainrule against autograd, PyTorch, JAX, mygrad and micrograd.

Run ``python -m benchmarks --help``; see benchmarks/README.md for the latest table.
"""

from . import checkpoint, curvature, gmm, kmeans, lstm, memory, mlp, ode, per_example, scalar
from ._harness import Case, Result, Row, Skip, Workload, available, run_workload, table

WORKLOADS = {w.name: w for w in [scalar.WORKLOAD, mlp.WORKLOAD, gmm.WORKLOAD, memory.WORKLOAD,
                                 *curvature.WORKLOADS, lstm.WORKLOAD, kmeans.WORKLOAD,
                                 per_example.WORKLOAD, checkpoint.WORKLOAD, ode.WORKLOAD]}

__all__ = ["WORKLOADS", "Case", "Result", "Row", "Skip", "Workload", "available", "run_workload",
           "table"]
