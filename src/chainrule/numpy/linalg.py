"""``chainrule.numpy.linalg`` (being written)."""
