"""Benchmark 1: RAKE throughput on the ~1 MB corpus, next to a one-pass tokeniser and rake-nltk.

Bars: at least 1/10 of a single ``re.findall(r"\\w+")`` pass over the same text, at least
1.2x rake-nltk configured with the same stop words and separators, and exact parity with the Go
engine on every row of the parity fixture. Run: ``.venv/bin/python -m benchmarks.bench_rake``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

# Neither ships type information (a mypy override would need pyproject.toml for two imports).
from nltk.tokenize import wordpunct_tokenize  # type: ignore[import-untyped]
from rake_nltk import Rake  # type: ignore[import-untyped]

from benchmarks.corpus import corpus, paragraphs, parity_rows
from benchmarks.harness import Figure, best_seconds, report
from rake_app.rake import STOP_WORDS, extract_keywords

NAME = "rake"
REPEAT = 5
FINDALL_FLOOR_SHARE = 0.1
RAKE_NLTK_SPEEDUP = 1.2
# RAKE.Go's sentence separators (the same as rake_app.rake's), so both engines split alike.
_PUNCTUATION = ".,/#!$%^&*;:{}=-_~()"
_SENTENCES = re.compile(r"[.,/#!$%^&*;:{}=\-_~()\n]")
_WORD = re.compile(r"\w+")


def rake_nltk_keywords(text: str) -> list[tuple[float, str]]:
    """rake-nltk with our stop words; its own sentence splitter would need NLTK's punkt data."""
    rake = Rake(
        stopwords=set(STOP_WORDS),
        punctuations=set(_PUNCTUATION),
        sentence_tokenizer=_SENTENCES.split,
        word_tokenizer=wordpunct_tokenize,
    )
    rake.extract_keywords_from_text(text)
    ranked: list[tuple[float, str]] = rake.get_ranked_phrases_with_scores()
    return ranked


def parity_misses() -> int:
    """Rows of the parity fixture whose phrase->score map differs from the Go engine's."""
    return sum(dict(extract_keywords(text)) != expected for text, expected in parity_rows())


def _rate(extract: Callable[[str], object], texts: Sequence[str], megabytes: float) -> float:
    return megabytes / best_seconds(lambda: [extract(text) for text in texts], repeat=REPEAT)


def main() -> bool:
    text = corpus()
    parts = paragraphs()
    megabytes = len(text.encode()) / 1e6
    findall = _rate(_WORD.findall, [text], megabytes)
    rake_whole = _rate(extract_keywords, [text], megabytes)
    rake_parts = _rate(extract_keywords, parts, megabytes)
    nltk_whole = _rate(rake_nltk_keywords, [text], megabytes)
    nltk_parts = _rate(rake_nltk_keywords, parts, megabytes)
    floor = findall * FINDALL_FLOOR_SHARE
    figures = [
        Figure(name="corpus size", value=megabytes, unit="MB"),
        Figure(name="paragraphs", value=len(parts), unit="count"),
        Figure(name="re.findall(\\w+) one pass", value=findall, unit="MB/s"),
        Figure(name="rake-nltk, whole text", value=nltk_whole, unit="MB/s"),
        Figure(name="rake-nltk, per paragraph", value=nltk_parts, unit="MB/s"),
        Figure(name="rake-app, whole text", value=rake_whole, unit="MB/s", minimum=floor),
        Figure(name="rake-app, per paragraph", value=rake_parts, unit="MB/s", minimum=floor),
        Figure(
            name="rake-app / rake-nltk, whole text",
            value=rake_whole / nltk_whole,
            unit="x",
            minimum=RAKE_NLTK_SPEEDUP,
        ),
        Figure(
            name="rake-app / rake-nltk, per paragraph",
            value=rake_parts / nltk_parts,
            unit="x",
            minimum=RAKE_NLTK_SPEEDUP,
        ),
        Figure(name="parity rows differing from Go", value=parity_misses(), unit="rows", maximum=0),
    ]
    return report(NAME, figures, notes=[f"best of {REPEAT} runs each, one process"])


if __name__ == "__main__":
    raise SystemExit(0 if main() else 1)
