from __future__ import annotations

import pytest

from tests.world import World


@pytest.fixture
def world(asterisk, tmp_path):
    w = World(asterisk, tmp_path)
    yield w
    w.close()
