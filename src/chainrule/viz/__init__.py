"""Glass box (being written)."""

__all__: list[str] = []
