"""Benchmark 2: prose-app tokens/s over HTTP (``POST /tokens``, 1 KB documents) vs in-process.

Bar: at concurrency 1 and 2, HTTP keeps at least 85% of the tokens/s of calling the
same spaCy pipeline in-process on the same documents. Also reports the model load time and the
service's RSS once loaded. The modes take turns, `PASSES` times, and each keeps its best pass, so
a burst of other work on the machine cannot favour one of them.
Run: ``.venv/bin/python -m benchmarks.bench_prose``.
"""

from __future__ import annotations

import asyncio
import time

from benchmarks.corpus import documents
from benchmarks.harness import BENCH_KEY, Figure, report, rss_mb
from benchmarks.loadgen import Call, run_load
from common import API_KEY_HEADER, ProseSettings
from local_stack import PROSE_APP
from prose_app.nlp import load_pipeline
from tests.support.processes import started_service

NAME = "prose"
DOC_BYTES = 1024
DOCS = 40
PASSES = 5
CONCURRENCIES = (1, 2)
HTTP_SHARE = 0.85


def _http_seconds(url: str, calls: list[Call], concurrency: int) -> float:
    result = asyncio.run(
        run_load(
            url,
            calls,
            concurrency=concurrency,
            requests=len(calls),
            headers={API_KEY_HEADER: BENCH_KEY},
            timeout=60,
        )
    )
    if result.statuses != {200: len(calls)}:
        raise RuntimeError(f"unexpected answers: {result.statuses} {result.failures}")
    return result.elapsed


def main() -> bool:
    docs = documents(DOC_BYTES, DOCS)
    calls = [Call(method="POST", path="/tokens", json={"text": doc}) for doc in docs]
    started = time.perf_counter()
    # The model the service itself loads: the default, or SPACY_MODEL when set.
    prose = load_pipeline(ProseSettings(api_key=BENCH_KEY).spacy_model)
    load_seconds = time.perf_counter() - started
    tokens = sum(len(prose.tokens(doc)) for doc in docs)  # also warms the pipeline
    best = {mode: float("inf") for mode in ("in-process", *CONCURRENCIES)}
    with started_service(PROSE_APP, api_key=BENCH_KEY) as svc:
        loaded_rss = rss_mb(svc.process.pid)
        _http_seconds(svc.url, calls[:4], 1)  # warm-up
        for _ in range(PASSES):
            started = time.perf_counter()
            for doc in docs:
                prose.tokens(doc)
            best["in-process"] = min(best["in-process"], time.perf_counter() - started)
            for concurrency in CONCURRENCIES:
                seconds = _http_seconds(svc.url, calls, concurrency)
                best[concurrency] = min(best[concurrency], seconds)
        final_rss = rss_mb(svc.process.pid)
    in_process = tokens / best["in-process"]
    figures = [
        Figure(name="model load (spaCy already imported)", value=load_seconds, unit="s"),
        Figure(name="prose-app RSS after load", value=loaded_rss, unit="MB"),
        Figure(name="prose-app RSS after the run", value=final_rss, unit="MB"),
        Figure(name="in-process tokens/s", value=in_process, unit="tok/s"),
    ]
    for concurrency in CONCURRENCIES:
        per_second = tokens / best[concurrency]
        figures += [
            Figure(
                name=f"HTTP tokens/s, concurrency {concurrency}", value=per_second, unit="tok/s"
            ),
            Figure(
                name=f"HTTP / in-process, concurrency {concurrency}",
                value=per_second / in_process,
                unit="ratio",
                minimum=HTTP_SHARE,
            ),
        ]
    notes = [f"{DOCS} documents of ~{DOC_BYTES} B ({tokens} tokens), best of {PASSES} passes"]
    return report(NAME, figures, notes=notes)


if __name__ == "__main__":
    raise SystemExit(0 if main() else 1)
