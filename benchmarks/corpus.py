"""A deterministic ~1 MB English corpus, built from the parity fixture's prose paragraphs.

Nothing is downloaded: the sentences of the fixture's English paragraphs (rows of 150+ characters)
are dealt into paragraphs of 3 to 9 sentences by a seeded RNG until the text reaches the target
size, so every run on every machine measures the same bytes.
"""

from __future__ import annotations

import json
import random
import re
from functools import cache

from benchmarks.harness import ROOT

PARITY_SAMPLE = ROOT / "tests" / "services" / "fixtures" / "rake-parity-sample.jsonl"
TARGET_BYTES = 1_000_000
SEED = 20191007
# Rows shorter than this are the fixture's adversarial strings, not English prose.
_MIN_PROSE_CHARS = 150
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def parity_rows() -> list[tuple[str, dict[str, float]]]:
    """The fixture's (text, expected phrase->score map) pairs, as measured on the Go engine."""
    rows = []
    for line in PARITY_SAMPLE.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        rows.append((row["text"], row["expected"]))
    return rows


@cache
def paragraphs(target_bytes: int = TARGET_BYTES) -> tuple[str, ...]:
    """Paragraphs whose UTF-8 size, joined by blank lines, just reaches `target_bytes`."""
    sentences = [
        sentence
        for text, _ in parity_rows()
        if len(text) >= _MIN_PROSE_CHARS
        for sentence in _SENTENCE_END.split(text)
    ]
    rng = random.Random(SEED)
    built: list[str] = []
    size = 0
    while size < target_bytes:
        paragraph = " ".join(rng.choices(sentences, k=rng.randint(3, 9)))
        built.append(paragraph)
        size += len(paragraph.encode()) + 2
    return tuple(built)


def corpus(target_bytes: int = TARGET_BYTES) -> str:
    """The whole corpus as one text (paragraphs separated by a blank line)."""
    return "\n\n".join(paragraphs(target_bytes))


def documents(size_bytes: int, count: int) -> list[str]:
    """`count` documents of about `size_bytes` each, cut at sentence ends from the corpus."""
    docs: list[str] = []
    current: list[str] = []
    length = 0
    for paragraph in paragraphs():
        for sentence in _SENTENCE_END.split(paragraph):
            current.append(sentence)
            length += len(sentence) + 1
            if length >= size_bytes:
                docs.append(" ".join(current))
                current, length = [], 0
                if len(docs) == count:
                    return docs
    raise ValueError(f"the corpus holds fewer than {count} documents of {size_bytes} bytes")
