"""``python -m nlp_client``: serve the edge, configured from the environment (image entrypoint)."""

from __future__ import annotations

from common import NlpClientSettings, run_service
from nlp_client.app import create_app

if __name__ == "__main__":
    run_service(create_app, NlpClientSettings)
