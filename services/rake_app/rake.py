"""RAKE keyword extraction with exactly the results of the original Go engine.

The v1.1.0 rake-app image used afjoseph/RAKE.Go (https://github.com/afjoseph/RAKE.Go). Its
behaviour, reproduced here without its regular expressions (one alternation of 571 stop words
is ~100x slower than a set lookup per whitespace token):

1. Split the text into sentences at newlines and at ``. , / # ! $ % ^ & * ; : { } = - _ ~ ( )``.
2. In a sentence, a stop word ends a phrase only when it is a whole token between ASCII
   whitespace (``[\\t\\n\\f\\r ]``, RE2's ``\\s``), compared case-insensitively (RE2 folding:
   ``K`` (Kelvin sign) is ``k``, ``ſ`` is ``s``). ``|`` also ends a phrase.
3. A phrase is its text as written, with runs of 2+ ASCII whitespace made one space, trimmed
   (Go's Unicode ``TrimSpace``) and lower-cased (Go's ``ToLower``: one rune to one rune).
4. Words are runs of letters and ASCII digits; a word that is an integer fitting in int32 is not
   scored. Word score = (degree + frequency) / frequency over all phrase occurrences, where a
   word's degree grows by (words in the phrase - 1) per occurrence; phrase score = sum of its
   words' scores (0 for a phrase without a scored word).
5. One entry per distinct phrase, sorted by score descending, ties in first-occurrence order
   (Go left ties in random map order); integral scores are ints, as Go's JSON prints them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

# SMART stop list (571 entries, "would" twice), as compiled into RAKE.Go (stopwords.go); source:
# http://www.lextek.com/manuals/onix/stopwords2.html via https://github.com/aneesha/RAKE
STOP_WORDS_FILE = Path(__file__).with_name("smart-stopwords.txt")
STOP_WORDS = frozenset(STOP_WORDS_FILE.read_text(encoding="utf-8").split())

_BREAKS = r".,/#!$%^&*;:{}=\-_~()\n"
_SENTENCE_BREAK = re.compile(f"[{_BREAKS}]")
_PHRASE_END = "|"
_PHRASE_BREAK = re.compile(f"[{_BREAKS}|]")
# A token: text between RE2 \s characters ([\t\n\f\r ]) and sentence breaks.
_TOKEN = re.compile(f"[^\\t\\f\\r {_BREAKS}]+")
# Go turns runs of 2+ \s into one space; a single tab or form feed stays as written.
_WHITESPACE_RUN = re.compile(r"[\t\f\r ]{2,}")
# Go's unicode.IsSpace, what strings.TrimSpace removes (wider than RE2's \s; unlike Python's
# str.isspace it excludes U+001C..U+001F).
_GO_SPACE = "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008" + (
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
_ASCII_WORD = re.compile(r"[a-z0-9]+")
# Python's \w without _ is str.isalnum(): letters (what Go's \p{L} is) plus every numeral.
_ALPHANUMERIC_RUN = re.compile(r"[^\W_]+")
_INT32_MAX = 2**31 - 1

Candidate = tuple[str, int | float]


def _go_lower(text: str) -> str:
    """Go's ``strings.ToLower``: per-rune simple mapping, so no final sigma and İ becomes i."""
    if text.isascii():
        return text.lower()
    return text.replace("\u0130", "i").replace("\u03a3", "\u03c3").lower()


def _mark_lowered_stop_word(match: re.Match[str]) -> str:
    return _PHRASE_END if match[0] in STOP_WORDS else match[0]


def _mark_stop_word(match: re.Match[str]) -> str:
    # RE2's (?i) folds U+212A KELVIN SIGN to k (so does str.lower) and U+017F LONG S to s.
    folded = match[0].lower().replace("\u017f", "s")
    return _PHRASE_END if folded in STOP_WORDS else match[0]


def _phrases(marked: str, *, lowered: bool) -> Iterable[str]:
    for part in _PHRASE_BREAK.split(marked):
        phrase = part.strip(_GO_SPACE)
        if phrase:
            yield phrase if lowered else _go_lower(phrase)


def candidate_phrases(text: str) -> list[str]:
    """Every phrase occurrence, in text order (steps 1 to 3 above).

    Stop tokens are replaced by ``|``, then the text is cut at every ``|`` and sentence break.
    """
    # Collapsing first is safe: it changes separators, never tokens.
    text = _WHITESPACE_RUN.sub(" ", text)
    if text.isascii() and "\v" not in text:
        # Fast path: every space Go trims at a sentence's ends also separates tokens here, so
        # the whole text is marked in one pass, lower-cased once.
        marked = _TOKEN.sub(_mark_lowered_stop_word, text.lower())
        return list(_phrases(marked, lowered=True))
    phrases: list[str] = []
    for sentence in _SENTENCE_BREAK.split(text):
        # Go trims each sentence (Unicode spaces, \v) before looking for stop words.
        marked = _TOKEN.sub(_mark_stop_word, sentence.strip(_GO_SPACE))
        phrases.extend(_phrases(marked, lowered=False))
    return phrases


def _is_int32(word: str) -> bool:
    # strconv.ParseInt(word, 10, 32) succeeds; words hold no sign, so only digits qualify.
    if not (word.isascii() and word.isdigit()):
        return False
    digits = word.lstrip("0")
    return len(digits) <= 10 and (not digits or int(digits) <= _INT32_MAX)


def _words(phrase: str) -> list[str]:
    """Go's ``[\\p{L}\\d_]+``: letters of any script and ASCII digits (``_`` split sentences)."""
    if phrase.isascii():
        return _ASCII_WORD.findall(phrase)
    words: list[str] = []
    for run in _ALPHANUMERIC_RUN.findall(phrase):
        if run.isalpha() or run.isascii():
            words.append(run)
        else:  # other digits and numerals (Arabic-Indic, ², Ⅳ) are not \\p{L} or \\d in Go
            words.extend("".join(c if c.isalpha() or c.isascii() else " " for c in run).split())
    return words


def _scored_words(phrase: str) -> list[str]:
    return [word for word in _words(phrase) if not _is_int32(word)]


def extract_keywords(text: str) -> list[Candidate]:
    """Score every candidate phrase of ``text``, best first.

    >>> extract_keywords("The Internet is the global system of interconnected computer networks")
    [('interconnected computer networks', 9), ('global system', 4), ('internet', 1)]
    """
    occurrences = candidate_phrases(text)
    words_of = {phrase: _scored_words(phrase) for phrase in occurrences}
    frequency: dict[str, int] = {}
    degree: dict[str, int] = {}
    for phrase in occurrences:
        words = words_of[phrase]
        for word in words:
            frequency[word] = frequency.get(word, 0) + 1
            degree[word] = degree.get(word, 0) + len(words) - 1
    word_score = {word: (degree[word] + count) / count for word, count in frequency.items()}
    scored: list[Candidate] = []
    for phrase, words in words_of.items():  # dicts keep first-occurrence order
        score = 0.0
        for word in words:  # summed left to right, as Go does, for bit-identical floats
            score += word_score[word]
        scored.append((phrase, int(score) if score.is_integer() else score))
    scored.sort(key=lambda candidate: -candidate[1])  # stable: ties keep first occurrence
    return scored
