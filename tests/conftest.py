"""Test-session settings shared by every test file."""

import os
import tempfile

# jit's compiled loops go to a cache directory of this run, not the user's: a test run neither
# reads loops another version of chainrule left behind nor leaves its own there.
os.environ.setdefault("CHAINRULE_CACHE_DIR", tempfile.mkdtemp(prefix="chainrule-test-cache-"))
