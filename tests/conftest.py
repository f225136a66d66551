"""Test-session settings shared by every test file."""

import os
import tempfile
import zlib

import pytest

from chainrule.core.trace import ReverseTrace

# jit's compiled loops go to a cache directory of this run, not the user's: a test run neither
# reads loops another version of chainrule left behind nor leaves its own there.
os.environ.setdefault("CHAINRULE_CACHE_DIR", tempfile.mkdtemp(prefix="chainrule-test-cache-"))

# Lean tapes keep small arrays whole for speed; in the tests they drop every array a primitive's
# `saves` leaves out, so a wrong `saves` declaration fails on arrays of any size.
ReverseTrace.lean_min_bytes = -1

# Slow sweeps (marked @pytest.mark.slow) run in full with --slow; otherwise a fixed sample of
# them runs, so CI still exercises every sweep while staying within its time.
SLOW_SAMPLE = 4  # one slow case in SLOW_SAMPLE runs by default


def pytest_addoption(parser):
    parser.addoption("--slow", action="store_true", help="run every slow sweep, not a sample")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--slow"):
        return
    skip = pytest.mark.skip(reason=f"slow sweep: 1 in {SLOW_SAMPLE} cases runs by default; "
                                   "--slow runs them all")
    for item in items:
        # the sample is fixed by the test's id, so every run (and CI) runs the same cases
        if "slow" in item.keywords and zlib.crc32(item.nodeid.encode()) % SLOW_SAMPLE:
            item.add_marker(skip)
