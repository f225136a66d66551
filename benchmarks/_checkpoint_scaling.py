"""The checkpointed peak against depth: ``python -m benchmarks._checkpoint_scaling [LAYERS ...]``.

(A module of its own, so that running it does not re-execute ``benchmarks.checkpoint``;
see :func:`benchmarks.checkpoint.scaling`.)
"""

import sys

from .checkpoint import scaling

if __name__ == "__main__":
    print(scaling(tuple(int(a) for a in sys.argv[1:]) or (25, 50, 100, 200)))
