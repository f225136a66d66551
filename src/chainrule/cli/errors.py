"""What every subcommand shares: the one-line user error and the "did you mean" hint."""

from __future__ import annotations

import difflib


class CLIError(Exception):
    """A user-facing problem: printed as one line, exit status 2."""


def did_you_mean(word: str, choices) -> str:
    """`` (did you mean --epochs?)`` for the closest of ``choices``, or ``""``."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]}?)" if close else ""
