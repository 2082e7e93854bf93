"""``python -m prose_app``: load the spaCy pipeline, then serve prose-app (image entrypoint)."""

from __future__ import annotations

import sys

from common import ProseSettings, run_service
from prose_app.app import create_app
from prose_app.nlp import ModelNotInstalledError

try:
    run_service(create_app, ProseSettings)
except ModelNotInstalledError as exc:
    # The message names SPACY_MODEL and what to install; a traceback would only bury it.
    sys.exit(str(exc))
