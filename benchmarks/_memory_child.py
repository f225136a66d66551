"""Entry point of one memory measurement: ``python -m benchmarks._memory_child TOOL L W B OUT
[EVERY]`` (``EVERY``: layers per checkpointed block of the "chainrule-checkpoint" tool).

(A module of its own, so that running it does not re-execute ``benchmarks.memory``.)
"""

import sys

from .memory import CHECKPOINT_EVERY, child

if __name__ == "__main__":
    tool, layers, width, batch, out_path = sys.argv[1:6]
    every = sys.argv[6:7] or [CHECKPOINT_EVERY]
    child(tool, int(layers), int(width), int(batch), out_path, int(every[0]))
