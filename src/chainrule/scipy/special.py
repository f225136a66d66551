"""``chainrule.scipy.special`` (being written)."""
