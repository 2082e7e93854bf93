"""docs/configuration.md is what the settings models say (generated, never edited by hand)."""

from __future__ import annotations

from components.settings_docs import render
from tests.infra.harness import ROOT

PAGE = ROOT / "docs" / "configuration.md"


def test_configuration_page_is_generated_from_the_current_models() -> None:
    # On failure: .venv/bin/python -m components.settings_docs > docs/configuration.md
    assert PAGE.read_text(encoding="utf-8") == render()


def test_configuration_page_lists_every_key_of_every_model() -> None:
    page = render()
    assert [line.split("|")[1].strip() for line in page.splitlines() if line.startswith("| `")][
        :4
    ] == ["`accountId`", "`aws:region`", "`developers`", "`repositories`"]
    for heading in ("`developers`", "`repositories.<name>`", "`assumeRole`", "`app`"):
        assert f"## {heading}\n" in page
    assert "## `app.containers[i]`\n" in page
    assert "| `port` | integer | required | an integer from 1 to 65535 |" in page
