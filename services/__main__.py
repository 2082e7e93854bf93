"""``python -m services`` (what ``make run`` does): the NLP API on 127.0.0.1 until Ctrl-C.

Uses API_KEY if set, else generates one and prints it; ports from NLP_CLIENT_PORT, RAKE_PORT and
PROSE_PORT (defaults 8080, 8081, 8082). Stops all three on Ctrl-C, SIGTERM, or when one dies.
All logic is in ``services/local_stack.py`` (type-checked; mypy maps this file to the same
module name as the Pulumi program's ``__main__.py``, so it is excluded there).
"""

from __future__ import annotations

import sys
from pathlib import Path

# The services import each other as top-level packages (`common`, `rake_app`), as in the images.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from local_stack import main  # noqa: E402

sys.exit(main())
