"""The admin web UI: an app factory in the manner of Flask's tutorial."""
from __future__ import annotations

from flask import Flask


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__)
    if test_config:
        app.config.update(test_config)

    @app.get("/")
    def hello() -> str:
        return "pbx admin"

    return app
