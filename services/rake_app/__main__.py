"""``python -m rake_app``: serve rake-app, configured from the environment (image entrypoint)."""

from __future__ import annotations

from common import RakeSettings, run_service
from rake_app.app import create_app

if __name__ == "__main__":
    run_service(create_app, RakeSettings)
