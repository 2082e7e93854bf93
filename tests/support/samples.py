"""Texts and the exact answers the services give for them, shared by the unit, end-to-end and
image tests."""

from __future__ import annotations

import json
from pathlib import Path

from prose_app.nlp import Entity, Sentence, Token

# The launcher's curl example text and rake-app's answer to it.
SEED_TEXT = (
    "The Internet is the global system of interconnected computer networks that use the "
    "Internet protocol suite to link devices worldwide."
)
SEED_KEYWORDS = [
    ("interconnected computer networks", 9),
    ("link devices worldwide", 9),
    ("internet protocol suite", 8),
    ("global system", 4),
    ("internet", 2),
]

# Paragraphs and adversarial strings with the Go engine's exact phrase -> score maps.
PARITY_FILE = Path(__file__).parents[1] / "services" / "fixtures" / "rake-parity-sample.jsonl"
PARITY_ROWS = [json.loads(line) for line in PARITY_FILE.read_text(encoding="utf-8").splitlines()]

# A short sample and prose-app's three answers (from the adapter and over HTTP).
SAMPLE_TEXT = "Tim Cook works at Apple. He lives in California."
SAMPLE_TOKENS: list[Token] = [
    {"tag": "NNP", "text": "Tim", "label": "B-PERSON"},
    {"tag": "NNP", "text": "Cook", "label": "I-PERSON"},
    {"tag": "VBZ", "text": "works", "label": "O"},
    {"tag": "IN", "text": "at", "label": "O"},
    {"tag": "NNP", "text": "Apple", "label": "B-ORGANIZATION"},
    {"tag": ".", "text": ".", "label": "O"},
    {"tag": "PRP", "text": "He", "label": "O"},
    {"tag": "VBZ", "text": "lives", "label": "O"},
    {"tag": "IN", "text": "in", "label": "O"},
    {"tag": "NNP", "text": "California", "label": "B-GPE"},
    {"tag": ".", "text": ".", "label": "O"},
]
SAMPLE_ENTITIES: list[Entity] = [
    {"text": "Tim Cook", "label": "PERSON"},
    {"text": "Apple", "label": "ORGANIZATION"},
    {"text": "California", "label": "GPE"},
]
SAMPLE_SENTENCES: list[Sentence] = [
    {"text": "Tim Cook works at Apple."},
    {"text": "He lives in California."},
]

# Through the edge (tests/e2e) and the images.
PROSE_TEXT = "Barack Obama visited Paris. It rained."
# en_core_web_sm 3.8.0 (pinned by hash), so the tags and labels are reproducible.
PROSE_TOKENS = [
    {"tag": tag, "text": text, "label": label}
    for tag, text, label in [
        ("NNP", "Barack", "B-PERSON"),
        ("NNP", "Obama", "I-PERSON"),
        ("VBD", "visited", "O"),
        ("NNP", "Paris", "B-GPE"),
        (".", ".", "O"),
        ("PRP", "It", "O"),
        ("VBD", "rained", "O"),
        (".", ".", "O"),
    ]
]
