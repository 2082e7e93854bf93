"""The documentation holds together: every relative link and anchor resolves, the README stays a
front page, the curl example lives on one page, and nothing cites what a reader cannot open.

Anchors follow GitHub's heading slugs: lower case, punctuation other than `-` and `_` dropped,
each space a `-`, and a repeated slug suffixed `-1`, `-2`, ...
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = sorted(
    [ROOT / "README.md", ROOT / "benchmarks" / "README.md", *(ROOT / "docs").glob("*.md")]
)
README_MAX_LINES = 200

# Fenced blocks and inline code are text, not links (a `[x](y)` in an example is not a link).
FENCE = re.compile(r"^ *```.*?^ *```[^\n]*$", re.DOTALL | re.MULTILINE)
INLINE_CODE = re.compile(r"``.+?``|`[^`\n]+`")
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
HEADING = re.compile(r"^#{1,6} +(.+?) *#*$", re.MULTILINE)
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)  # https:, mailto:, ...

# What a reader of this repository cannot open: the team's private design notes and style guide,
# a sibling directory outside the repository, and numbered issues of a tracker that is not public.
# (This file spells the patterns, so it is the one file not scanned.)
PRIVATE_CITATION = re.compile(
    r"\.\./shared\b|\bDESIGN(?:\.md)?\b|\bSTYLE\.md\b|\b[Ii]ssues? #?\d+", re.MULTILINE
)
SCANNED_SUFFIXES = frozenset({".py", ".md", ".yml", ".yaml", ".toml", ".cjs", ".cfg", ".txt"})
SCANNED_NAMES = frozenset(
    {"Makefile", "Dockerfile", "run", "install-engine", ".gitignore", ".dockerignore"}
)
SKIPPED_DIRS = frozenset(
    {".git", ".venv", ".tools", "node_modules", "__pycache__", "results", "fixtures"}
    | {".mypy_cache", ".ruff_cache", ".pytest_cache"}
)

# The seed sentence of the one curl example (docs/api.md).
CURL_EXAMPLE_TEXT = "interconnected computer networks that use the Internet protocol suite"


def slug(heading: str) -> str:
    """GitHub's anchor for a heading's text (Markdown markup already in the text)."""
    text = INLINE_CODE.sub(lambda m: m.group(0).strip("`"), heading)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)  # a link in a heading: its text
    text = re.sub(r"[^\w\- ]", "", text.lower())
    return text.replace(" ", "-")


def anchors(markdown: str) -> set[str]:
    """Every anchor the file's headings define, repeated slugs numbered as GitHub does."""
    seen: dict[str, int] = {}
    result = set()
    for heading in HEADING.findall(FENCE.sub("", markdown)):
        base = slug(heading)
        count = seen.get(base, 0)
        seen[base] = count + 1
        result.add(base if count == 0 else f"{base}-{count}")
    return result


def relative_links(markdown: str) -> list[str]:
    """The targets of the file's Markdown links that point into the repository."""
    prose = INLINE_CODE.sub("", FENCE.sub("", markdown))
    return [target for target in LINK.findall(prose) if not EXTERNAL.match(target)]


def broken_links(doc: Path) -> list[str]:
    """`target: why` for each relative link of `doc` whose file or anchor does not exist."""
    problems = []
    for target in relative_links(doc.read_text(encoding="utf-8")):
        path_part, _, anchor = target.partition("#")
        path = (doc.parent / path_part).resolve() if path_part else doc
        if not path.exists():
            problems.append(f"{target}: no such file")
        elif anchor and path.suffix == ".md":
            if anchor not in anchors(path.read_text(encoding="utf-8")):
                problems.append(f"{target}: no heading with anchor #{anchor}")
    return problems


def private_citations(text: str) -> list[str]:
    """Each citation of something outside the repository, as `line N: citation`."""
    return [
        f"line {text.count(chr(10), 0, match.start()) + 1}: {match.group(0)}"
        for match in PRIVATE_CITATION.finditer(text)
    ]


def scanned_files(root: Path) -> Iterator[Path]:
    """The repository's own text files: code, docs, workflows, build files (no data, no caches)."""
    for directory, subdirectories, files in os.walk(root):
        subdirectories[:] = sorted(d for d in subdirectories if d not in SKIPPED_DIRS)
        for name in sorted(files):
            path = Path(directory, name)
            if path.suffix in SCANNED_SUFFIXES or name in SCANNED_NAMES:
                yield path


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_doc_relative_links_and_anchors_resolve(doc: Path) -> None:
    assert broken_links(doc) == []


def test_readme_is_a_front_page_of_at_most_200_lines() -> None:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").count("\n")
    assert lines <= README_MAX_LINES, f"README.md has {lines} lines; move detail to docs/"


def test_curl_example_lives_on_one_page_once() -> None:
    pages = {
        str(doc.relative_to(ROOT)): count
        for doc in DOCS
        if (count := doc.read_text(encoding="utf-8").count(CURL_EXAMPLE_TEXT))
    }
    assert pages == {"docs/api.md": 1}


def test_repository_cites_only_its_own_files_and_public_urls() -> None:
    this_file = Path(__file__).resolve()
    found = {
        str(path.relative_to(ROOT)): citations
        for path in scanned_files(ROOT)
        if path.resolve() != this_file
        and (citations := private_citations(path.read_text(encoding="utf-8", errors="replace")))
    }
    assert found == {}


# ---- The checks themselves: each catches what it is for ------------------------------------------


@pytest.mark.parametrize(
    ("heading", "expected"),
    [
        pytest.param("Deploy both stacks", "deploy-both-stacks", id="words"),
        pytest.param("1. Policy pack", "1-policy-pack", id="number-and-dot"),
        pytest.param("`make run` and `make test`", "make-run-and-make-test", id="inline-code"),
        pytest.param(
            "CannotPullContainerError or AccessDeniedException",
            "cannotpullcontainererror-or-accessdeniedexception",
            id="case",
        ),
        pytest.param("uv not found: why?", "uv-not-found-why", id="punctuation"),
        pytest.param(
            "Model provenance (en_core_web_sm)", "model-provenance-en_core_web_sm", id="underscore"
        ),
        pytest.param("See [CI](docs/ci.md)", "see-ci", id="link"),
    ],
)
def test_slug_matches_githubs_anchor(heading: str, expected: str) -> None:
    assert slug(heading) == expected


def test_anchors_number_repeated_headings_and_ignore_code_blocks() -> None:
    markdown = "# Top\n## Setup\n```bash\n# not a heading\n```\n## Setup\n"
    assert anchors(markdown) == {"top", "setup", "setup-1"}


def test_relative_links_skip_urls_and_code() -> None:
    markdown = (
        "[a](docs/a.md) [b](https://example.com/x) [c](#here) `[d](nope.md)`\n"
        "```\n[e](also-nope.md)\n```\n[f](mailto:x@example.com)\n"
    )
    assert relative_links(markdown) == ["docs/a.md", "#here"]


def test_broken_links_names_missing_files_and_anchors(tmp_path: Path) -> None:
    doc = tmp_path / "page.md"
    (tmp_path / "other.md").write_text("# Other\n## Real section\n", encoding="utf-8")
    doc.write_text(
        "# Page\n[ok](other.md#real-section) [self](#page) [gone](missing.md) "
        "[bad anchor](other.md#nope) [bad self](#nope)\n",
        encoding="utf-8",
    )
    assert broken_links(doc) == [
        "missing.md: no such file",
        "other.md#nope: no heading with anchor #nope",
        "#nope: no heading with anchor #nope",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "# see ../shared/DESIGN.md\n", ["line 1: ../shared", "line 1: DESIGN.md"], id="shared"
        ),
        pytest.param("x\n# (DESIGN §4)\n", ["line 2: DESIGN"], id="design-section"),
        pytest.param(
            "bars (issue 7)\nIssue 8: proves\n", ["line 1: issue 7", "line 2: Issue 8"], id="issue"
        ),
        pytest.param("see issue #12\n", ["line 1: issue #12"], id="issue-hash"),
        pytest.param("STYLE.md says\n", ["line 1: STYLE.md"], id="style"),
        pytest.param(
            'issue="CREDENTIALS_EXPOSURE"; design notes; github.com/encode/httpx/issues/3215\n',
            [],
            id="not-citations",
        ),
    ],
)
def test_private_citations_finds_each_kind(text: str, expected: list[str]) -> None:
    assert private_citations(text) == expected


def test_scanned_files_cover_code_docs_and_workflows_not_caches(tmp_path: Path) -> None:
    for name in (
        "a.py", "docs/b.md", ".github/workflows/c.yml", "services/x/Dockerfile", ".ci/run",
        ".ci/install-engine", ".venv/lib/d.py", "node_modules/e.md", "tests/fixtures/f.txt",
        "g.jsonl", "h.png",
    ):  # fmt: skip
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("", encoding="utf-8")
    found = {str(path.relative_to(tmp_path)) for path in scanned_files(tmp_path)}
    assert found == {
        "a.py",
        "docs/b.md",
        ".github/workflows/c.yml",
        "services/x/Dockerfile",
        ".ci/run",
        ".ci/install-engine",
    }
