"""The glass box: every forward value, local gradient and delta of a computation, shown.

``trace(f)(*args)`` records ``f`` on chainrule's tape and returns a
:class:`Computation`: the nodes in execution order with their values, local
gradients and the gradients arriving at them. ``explain()`` prints the table,
``render()`` draws the circuit (graphviz), ``to_html()`` writes a step-through page.
``label(x, "q")`` names a value; ``scope("layer")`` groups a block. See docs/glassbox.md.
"""

from .record import Arg as Arg
from .record import Computation as Computation
from .record import Contribution as Contribution
from .record import Group as Group
from .record import Node as Node
from .record import label, scope, trace

# what ``import chainrule`` exposes; the classes stay in chainrule.viz
__all__ = ["trace", "label", "scope"]
