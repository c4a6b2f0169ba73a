from __future__ import annotations

import pytest

# The ARI fixtures (the Stasis app, an SMTP sink, the voicemail mailer) for every call test.
from tests.calls.ari_fixtures import smtp_sink, stasis_app, voicemail_mailer  # noqa: F401
from tests.world import World


@pytest.fixture
def world(asterisk, tmp_path):
    w = World(asterisk, tmp_path)
    yield w
    w.close()
