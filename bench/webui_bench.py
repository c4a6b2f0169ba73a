"""The admin web UI at real size (issue 12): list API server time and console first paint, 100 vs 10,000 numbers.

    python bench/webui_bench.py                  # about 3 minutes on a 2-core machine
    python bench/webui_bench.py --sizes 100 10000 --requests 100

For each size, a fresh SQLite store: the demo world plus `size` numbers at one extra site of one
occupier, added through pbx.services (bench/bigstore.py), and an occupier admin for it. Then:

- **list API server time**: `GET /api/v1/sites/<id>/numbers` (first page, 50 rows) and a search in
  the national format (`0113 496 0999`) and by extension (`10099`), `--requests` times each through the
  app in-process (Flask's test client: the whole WSGI request, sign-in cookie, SQL, JSON, gzip),
  p50 and p95 in ms; and the bytes sent (gzip) for the first page.
- **operator console first paint**: headless Debian chromium signs in as the operator, opens the
  console on that occupier (`/operator?occupier=<id>`, served by a threaded werkzeug server on
  127.0.0.1), and reads the page's first-contentful-paint; best and worst of 5 loads.

Not a timed test: it prints figures (docs/benchmarks.md keeps them). All traffic on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select

from bench.bigstore import OCCUPIER, SITE, add_numbers, number_count
from pbx import demo
from pbx.services import operator as ops
from pbx.services.actor import Actor
from pbx.store.db import make_engine, make_session_factory, transaction
from pbx.store.migrate import upgrade
from pbx.store.models import Occupier, Operator, Role, Site
from webui import create_app

BENCH_ADMIN = "admin@bench.example"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PAINTS = 5


def build_store(directory: Path, size: int) -> tuple[str, int, int]:
    """A demo store plus `size` numbers of Bench Ltd at its own site; returns (url, site id, occupier id)."""
    url = f"sqlite:///{directory / f'store-{size}.db'}"
    upgrade(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    with transaction(factory) as session:
        demo.seed(session)
    add_numbers(factory, number_count(factory) + size)
    with transaction(factory) as session:
        occupier = session.scalar(select(Occupier).where(Occupier.name == OCCUPIER))
        site = session.scalar(select(Site).where(Site.name == SITE))
        operator = session.scalars(select(Operator)).first()
        ops.create_user(
            session,
            Actor.system("bench"),
            operator,
            occupier,
            "Bench",
            "Admin",
            BENCH_ADMIN,
            demo.PASSWORD,
            Role.OCCUPIER_ADMIN,
        )
        ids = (site.id, occupier.id)
    engine.dispose()
    return url, *ids


def signed_client(app, email: str):
    import re

    client = app.test_client()
    page = client.get("/sign-in").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    answer = client.post("/sign-in", data={"email": email, "password": demo.PASSWORD, "csrf_token": token})
    assert answer.status_code == 302, answer.status_code
    return client


def timed(client, url: str, requests: int) -> tuple[float, float, int]:
    times, size = [], 0
    for _ in range(requests):
        started = time.perf_counter()
        answer = client.get(url, headers={"Accept-Encoding": "gzip"})
        times.append((time.perf_counter() - started) * 1000)
        assert answer.status_code == 200, (url, answer.status_code)
        size = len(answer.data)
    times.sort()
    return statistics.median(times), times[max(0, int(len(times) * 0.95) - 1)], size


def first_paint(url: str, occupier_id: int) -> tuple[float, float]:
    from playwright.sync_api import sync_playwright
    from werkzeug.serving import make_server

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench-secret-key"})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    paints = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(base_url=base)
            page.set_default_timeout(60_000)
            page.goto("/sign-in")
            page.get_by_label("E-mail address").fill("operator@flexspace.example")
            page.get_by_label("Password").fill(demo.PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url("**/operator**")
            for _ in range(PAINTS):
                page.goto(f"/operator?occupier={occupier_id}")
                paints.append(
                    page.evaluate(
                        """() => new Promise((resolve) => {
                            const read = () => {
                                const paint = performance.getEntriesByName('first-contentful-paint')[0];
                                if (paint) resolve(paint.startTime); else setTimeout(read, 20);
                            };
                            read();
                        })"""
                    )
                )
            browser.close()
    finally:
        server.shutdown()
        thread.join(timeout=10)
    return min(paints), max(paints)


def main() -> None:
    import logging

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 10_000])
    parser.add_argument("--requests", type=int, default=100)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="pbx-webui-bench-") as tmp:
        for size in args.sizes:
            started = time.monotonic()
            url, site_id, occupier_id = build_store(Path(tmp), size)
            built = time.monotonic() - started
            app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench-secret-key"})
            admin = signed_client(app, BENCH_ADMIN)
            operator = signed_client(app, "operator@flexspace.example")
            base = f"/api/v1/sites/{site_id}/numbers"
            first = timed(admin, base, args.requests)
            national = timed(admin, f"{base}?q=0113%20496%200999", args.requests)
            by_name = timed(admin, f"{base}?q=10099", args.requests)
            console = timed(operator, f"/operator?occupier={occupier_id}", max(10, args.requests // 5))
            paint = first_paint(url, occupier_id)
            rows.append((size, first, national, by_name, console, paint))
            print(f"{size:,} numbers: store built in {built:.0f} s", flush=True)
    print(
        "\nnumbers | list p50/p95 ms (bytes gz) | search '0113 496 0999' p50/p95 | search ext. '10099' p50/p95 "
        "| console server p50/p95 ms | console first paint best/worst ms"
    )
    for size, first, national, by_name, console, paint in rows:
        print(
            f"{size:>7,} | {first[0]:.1f} / {first[1]:.1f} ({first[2]:,}) | {national[0]:.1f} / {national[1]:.1f} "
            f"| {by_name[0]:.1f} / {by_name[1]:.1f} | {console[0]:.1f} / {console[1]:.1f} "
            f"| {paint[0]:.0f} / {paint[1]:.0f}"
        )


if __name__ == "__main__":
    main()
