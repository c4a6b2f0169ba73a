"""Run in its own process by test_number_lists_api.py: download the operator's CSV through the app
and print how many lines came and the process's peak memory before and after (ru_maxrss, kB).

Its own process, so the peak is this download's, not what the test process did before.
"""

from __future__ import annotations

import gc
import json
import resource
import sys

from tests.web.conftest import OPERATOR, sign_in
from webui import create_app


def main(url: str) -> None:
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "probe-secret-key"})
    client = app.test_client()
    # Signed in without opening the console (its own list would set the peak before the download).
    assert sign_in(client, OPERATOR).status_code == 302
    gc.collect()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    answer = client.get("/api/v1/operator/numbers.csv", buffered=False)
    lines = 0
    for chunk in answer.response:
        lines += chunk.count(b"\n") if isinstance(chunk, bytes) else chunk.count("\n")
    answer.close()
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    shown = {"status": answer.status_code, "streamed": answer.is_streamed, "lines": lines}
    print(json.dumps({**shown, "before_kb": before, "after_kb": after}))


if __name__ == "__main__":
    main(sys.argv[1])
