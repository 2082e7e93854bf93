"""The RAKE engine against the original Go service's output."""

from __future__ import annotations

from typing import Any

import pytest

from rake_app.rake import STOP_WORDS, extract_keywords
from tests.support.samples import PARITY_ROWS, SEED_KEYWORDS, SEED_TEXT


def test_stop_words_are_the_smart_list_of_571_entries_570_distinct() -> None:
    # The list has "would" twice, as RAKE.Go's stopwords.go does.
    assert (len(STOP_WORDS), "a's" in STOP_WORDS, "zero" in STOP_WORDS) == (570, True, True)


def test_extract_keywords_seed_example_returns_the_seeds_five_candidates_in_order() -> None:
    assert extract_keywords(SEED_TEXT) == SEED_KEYWORDS


@pytest.mark.parametrize(
    "row", [pytest.param(row, id=f"row{index:03d}") for index, row in enumerate(PARITY_ROWS)]
)
def test_extract_keywords_parity_row_matches_go_engine_exactly(row: dict[str, Any]) -> None:
    result = extract_keywords(row["text"])
    # Same map, same number types (Go prints 9, not 9.0), one entry per phrase.
    assert [(phrase, type(score)) for phrase, score in result] == [
        (phrase, type(row["expected"][phrase])) for phrase, _ in result
    ]
    assert dict(result) == row["expected"]
    assert len(result) == len(row["expected"])


def test_parity_fixture_has_every_row_of_the_shared_sample() -> None:
    assert (len(PARITY_ROWS), sum(1 for row in PARITY_ROWS if row.get("fuzz"))) == (635, 200)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param(" \t\n\u00a0 ", id="whitespace"),
        pytest.param("The of AND it is, to be!", id="only-stop-words"),
        pytest.param("... ,;: --- ()", id="only-punctuation"),
    ],
)
def test_extract_keywords_without_candidates_returns_empty_list(text: str) -> None:
    assert extract_keywords(text) == []


def test_extract_keywords_int32_numbers_are_unscored_and_larger_ones_scored() -> None:
    assert extract_keywords("It costs 2147483648 dollars in 1955, or 2147483647 cents.") == [
        ("costs 2147483648 dollars", 9),
        ("2147483647 cents", 1),
        ("1955", 0),
    ]


def test_extract_keywords_splits_at_listed_punctuation_only() -> None:
    # Split at - _ ; and newline; not at ? or quotes, which stay in the phrase as written.
    assert extract_keywords("alpha-beta_gamma; why?delta 'quoted word'\nnext line") == [
        ("why?delta 'quoted word'", 16),
        ("alpha", 1),
        ("beta", 1),
        ("gamma", 1),
        ("line", 1),
    ]


def test_extract_keywords_stop_word_inside_a_token_does_not_end_a_phrase() -> None:
    assert extract_keywords("[After the battle") == [("[after", 1), ("battle", 1)]


def test_extract_keywords_pipe_ends_a_phrase_but_hides_a_stop_word() -> None:
    # "the|" is not the token "the", so it is no stop word; "|" still splits, as in Go.
    assert extract_keywords("red car the|blue van") == [("red car the", 9), ("blue van", 4)]


def test_extract_keywords_unicode_lowercases_rune_by_rune_like_go() -> None:
    # No final sigma (ΟΔΟΣ -> οδοσ) and İ -> i, as Go's strings.ToLower does.
    assert extract_keywords("Ünïcode SÉRIE ΟΔΟΣ İstanbul") == [("ünïcode série οδοσ istanbul", 16)]


def test_extract_keywords_kelvin_sign_and_long_s_fold_to_stop_words() -> None:
    # RE2's case folding: U+212A is k and U+017F is s, both SMART stop words.
    assert extract_keywords("\u212a red \u017f car") == [("red", 1), ("car", 1)]


def test_extract_keywords_non_latin_numerals_split_words() -> None:
    # Go's words are [\p{L}\d_]+: ² and Ⅳ are neither letters nor ASCII digits.
    assert extract_keywords("x²y Ⅳ") == [("x²y ⅳ", 4)]


def test_extract_keywords_repeated_phrase_is_listed_once_with_all_occurrences_scored() -> None:
    assert extract_keywords("Deep learning. deep learning. Learning") == [
        ("deep learning", 3.666666666666667),
        ("learning", 1.6666666666666667),
    ]


def test_extract_keywords_ties_keep_first_occurrence_order() -> None:
    assert extract_keywords("zebra. apple. mango") == [("zebra", 1), ("apple", 1), ("mango", 1)]


def test_extract_keywords_collapses_whitespace_runs_but_keeps_a_single_tab() -> None:
    assert extract_keywords("big \t stick. tall\ttree") == [("big stick", 4), ("tall\ttree", 4)]
