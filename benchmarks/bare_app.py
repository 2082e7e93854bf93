"""The floor of a service: the least a Python app on the services' stack can cost per request.

A raw ASGI app under uvicorn (httptools, uvloop) doing each route's work and nothing else:
``GET /health``; ``POST /keywords`` and ``POST /tokens`` with the API key compared in constant
time, the Content-Type checked, the JSON body read with ``json.loads`` and the answer written
with ``json.dumps``; the same RAKE and spaCy engine, run on the event loop. No limits, deadlines,
access records, error contract or OpenAPI: what a service spends beyond this app is what those
and its framework cost. ``benchmarks/bench_http_layer.py`` measures it next to the services.

Run: ``.venv/bin/python -m benchmarks.bare_app <port>``.
"""

from __future__ import annotations

import hmac
import json
import sys

from starlette.types import Receive, Scope, Send

from benchmarks.harness import BENCH_KEY, serve_floor
from common import API_KEY_HEADER, ProseSettings
from common.asgi import header, read_body, send_json
from prose_app.nlp import Prose, load_pipeline
from rake_app.rake import extract_keywords

_KEY = API_KEY_HEADER.lower().encode()
_FORBIDDEN = b'{"message":"no"}'


class BareApp:
    """ASGI app: the services' hot routes, bare (see the module's docstring)."""

    def __init__(self, prose: Prose) -> None:
        self.prose = prose

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http", "run with lifespan off"
        if scope["path"] == "/health":
            await send_json(send, 200, b'{"status":"UP"}')
            return
        supplied = header(scope, _KEY) or b""
        if not hmac.compare_digest(supplied, BENCH_KEY.encode()):
            await send_json(send, 401, _FORBIDDEN)
            return
        if header(scope, b"content-type") != b"application/json":
            await send_json(send, 415, _FORBIDDEN)
            return
        text = json.loads(await read_body(receive))["text"]
        if scope["path"] == "/keywords":
            answer: object = [{"candidate": p, "score": s} for p, s in extract_keywords(text)]
        else:
            answer = self.prose.tokens(text)
        await send_json(send, 200, json.dumps(answer, ensure_ascii=False).encode())


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not argv[0].isdigit():
        print("usage: python -m benchmarks.bare_app <port>")
        return 2
    prose = load_pipeline(ProseSettings.model_fields["spacy_model"].default)
    serve_floor(BareApp(prose), int(argv[0]), lifespan=False)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
