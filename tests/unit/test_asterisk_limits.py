"""Asterisk starts with as many open files as the machine allows (a call holds ~5)."""

from __future__ import annotations

import resource
import subprocess
import sys

from pbx.settings import REPO_ROOT

PROBE = """
import resource
from pbx.asterisk.local import _open_files_to_the_hard_limit
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(256, hard), hard))
_open_files_to_the_hard_limit()
print(*resource.getrlimit(resource.RLIMIT_NOFILE))
"""


def test_the_soft_limit_of_open_files_is_raised_to_the_hard_one():
    # In a child process: this one's limits stay as they were.
    out = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60, check=True
    ).stdout.split()
    soft, hard = int(out[0]), int(out[1])
    # Lowered to 256 first, then raised: to the hard limit, or Linux's default nr_open under none.
    assert soft == (hard if hard != resource.RLIM_INFINITY else 1_048_576)
