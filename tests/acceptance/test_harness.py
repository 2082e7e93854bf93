"""The acceptance test's pure helpers, in the normal suite (no Pulumi CLI, no AWS)."""

from __future__ import annotations

import ast
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from components.fargate_app import SERVICE_DEPLOY_TIMEOUT_MINUTES
from tests.acceptance.harness import (
    HEALTH_TIMEOUT_S,
    OPERATION_LIMITS_S,
    SEED_KEYWORDS,
    STOP_GRACE_S,
    TEST_TIME_LIMIT_S,
    AccountAccess,
    OperationFailed,
    account_access,
    creates_by_type,
    customer_config,
    expected_creates,
    http_json,
    missing_requirements,
    per_run_name,
    per_run_names,
    recovery_hint,
    run_bounded,
    run_label,
    skip_reason,
    stack_settings_document,
    unique_stack_names,
    vendor_config,
    vendor_image_source,
    vendor_stack_source,
    wait_until_healthy,
)
from tests.ci.workflow_calls import load_workflow
from tests.infra.harness import PROJECT, ROOT
from tests.support.servers import JsonHandler, serving
from tools.stack_files import read_stack_config

VENDOR_ID = "210987654321"
CUSTOMER_ID = "123456789012"
COMPLETE = {
    "VENDOR_ACCOUNT_ID": VENDOR_ID,
    "VENDOR_AWS_PROFILE": "vendor",
    "CUSTOMER_ACCOUNT_ID": CUSTOMER_ID,
    "CUSTOMER_ROLE_ARN": f"arn:aws:iam::{CUSTOMER_ID}:role/deployer",
}
VENDOR = AccountAccess(side="vendor", account_id=VENDOR_ID, profile="vendor")
CUSTOMER = AccountAccess(
    side="customer", account_id=CUSTOMER_ID, role_arn=f"arn:aws:iam::{CUSTOMER_ID}:role/deployer"
)
TOKEN = "a1b2c3"


def test_missing_requirements_with_cli_and_complete_environment_is_empty() -> None:
    assert missing_requirements(COMPLETE, pulumi_cli="/usr/bin/pulumi") == []
    assert skip_reason([]) is None


def test_missing_requirements_with_nothing_names_every_item() -> None:
    missing = missing_requirements({}, pulumi_cli=None)

    assert skip_reason(missing) == (
        "two-account acceptance test needs: the `pulumi` CLI on PATH; "
        "VENDOR_ACCOUNT_ID (the vendor account's 12-digit ID); "
        "VENDOR_AWS_PROFILE or VENDOR_ROLE_ARN (credentials for the vendor account); "
        "CUSTOMER_ACCOUNT_ID (the customer account's 12-digit ID); "
        "CUSTOMER_AWS_PROFILE or CUSTOMER_ROLE_ARN (credentials for the customer account)"
    )


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        pytest.param(
            {"VENDOR_ACCOUNT_ID": "12345"},
            "VENDOR_ACCOUNT_ID as a 12-digit account ID (got '12345')",
            id="short-account-id",
        ),
        pytest.param(
            {"CUSTOMER_ROLE_ARN": "deployer"},
            "CUSTOMER_ROLE_ARN as an IAM role ARN (got 'deployer')",
            id="role-not-an-arn",
        ),
        pytest.param(
            {"CUSTOMER_ROLE_ARN": f"arn:aws:iam::{VENDOR_ID}:role/deployer"},
            f"CUSTOMER_ROLE_ARN in account CUSTOMER_ACCOUNT_ID={CUSTOMER_ID} "
            f"(got 'arn:aws:iam::{VENDOR_ID}:role/deployer')",
            id="role-in-the-other-account",
        ),
        pytest.param(
            {"PULUMI_BACKEND_URL": "https://api.pulumi.com"},
            "PULUMI_BACKEND_URL as a self-managed backend (file://, s3://, gs://, azblob://, "
            "postgres://), or unset for a temporary file:// backend "
            "(got 'https://api.pulumi.com')",
            id="cloud-backend",
        ),
    ],
)
def test_missing_requirements_with_bad_value_names_the_variable(
    override: dict[str, str], expected: str
) -> None:
    assert missing_requirements(COMPLETE | override, pulumi_cli="pulumi") == [expected]


def test_account_access_reads_profile_and_role() -> None:
    assert account_access(COMPLETE, "vendor") == VENDOR
    assert account_access(COMPLETE, "customer") == CUSTOMER


def test_account_access_process_env_blanks_static_keys_only_with_a_profile() -> None:
    assert VENDOR.process_env() == {
        "AWS_PROFILE": "vendor",
        "AWS_ACCESS_KEY_ID": "",
        "AWS_SECRET_ACCESS_KEY": "",
        "AWS_SESSION_TOKEN": "",
    }
    assert CUSTOMER.process_env() == {}


def test_unique_stack_names_pairs_vendor_and_customer() -> None:
    names = unique_stack_names(TOKEN)

    assert (names.vendor, names.customer) == ("acc-a1b2c3-vendor", "acc-a1b2c3-customer")


def test_unique_stack_names_rejects_a_token_pulumi_cannot_name() -> None:
    with pytest.raises(ValueError) as error:
        unique_stack_names("Bad/Token")

    assert str(error.value) == "token: expected 1-20 lowercase letters or digits, got 'Bad/Token'."


def test_per_run_name_ends_in_the_run_label() -> None:
    assert run_label(TOKEN) == "acc-a1b2c3"
    assert per_run_name("rake-app", TOKEN) == "rake-app-acc-a1b2c3"


def test_per_run_name_rejects_a_token_an_ecr_repository_cannot_carry() -> None:
    with pytest.raises(ValueError) as error:
        per_run_name("rake-app", "A1")

    assert str(error.value) == "token: expected 1-20 lowercase letters or digits, got 'A1'."


def test_per_run_names_renames_repositories_their_references_and_developers() -> None:
    example = read_stack_config("customer")

    config = per_run_names(example, TOKEN)

    assert config["ecr-cross-account:repositories"] == {
        "nlp-client-acc-a1b2c3": {"source": "services/nlp_client"},
        "prose-app-acc-a1b2c3": {"source": "services/prose_app"},
    }
    assert config["ecr-cross-account:developers"] == {
        "group": "Development-acc-a1b2c3",
        "users": ["Developer-01-acc-a1b2c3"],
    }
    containers = config["ecr-cross-account:app"]["containers"]
    assert [(c["name"], c.get("repository"), c.get("vendorRepository")) for c in containers] == [
        ("nlp-client", "nlp-client-acc-a1b2c3", None),
        ("rake-app", None, "rake-app-acc-a1b2c3"),
        ("prose-app", "prose-app-acc-a1b2c3", None),
    ]
    assert containers[0]["dependsOn"] == ["rake-app", "prose-app"]  # container names stay
    untouched = example.keys() - {
        "ecr-cross-account:repositories",
        "ecr-cross-account:developers",
        "ecr-cross-account:app",
    }
    assert {k: config[k] for k in untouched} == {k: example[k] for k in untouched}
    assert example["ecr-cross-account:developers"]["group"] == "Development"  # not modified


def test_per_run_names_adds_no_key_the_config_lacks() -> None:
    config = {"ecr-cross-account:developers": {"group": "Development"}}

    assert per_run_names(config, TOKEN) == {
        "ecr-cross-account:developers": {"group": "Development-acc-a1b2c3"}
    }


def test_vendor_config_targets_real_accounts_and_keeps_the_rest() -> None:
    example = read_stack_config("vendor")

    config = vendor_config(example, token=TOKEN, vendor=VENDOR, customer_account_id=CUSTOMER_ID)

    assert config == example | {
        "ecr-cross-account:accountId": VENDOR_ID,
        "ecr-cross-account:forceDelete": True,
        "ecr-cross-account:developers": {
            "group": "Development-acc-a1b2c3",
            "users": ["Developer-01-acc-a1b2c3"],
        },
        "ecr-cross-account:repositories": {
            "rake-app-acc-a1b2c3": {"source": "services/rake_app", "pullAccounts": [CUSTOMER_ID]}
        },
    }
    assert example["ecr-cross-account:accountId"] == "111122223333"  # the example is untouched


def test_customer_config_reads_the_fresh_vendor_stack_and_assumes_the_role() -> None:
    example = read_stack_config("customer")

    config = customer_config(
        example,
        token=TOKEN,
        customer=CUSTOMER,
        vendor_source=vendor_stack_source("acc-a1b2c3-vendor"),
    )

    assert config == per_run_names(example, TOKEN) | {
        "ecr-cross-account:accountId": CUSTOMER_ID,
        "ecr-cross-account:forceDelete": True,
        "ecr-cross-account:assumeRole": {"roleArn": CUSTOMER.role_arn},
        "ecr-cross-account:vendorStack": "organization/ecr-cross-account/acc-a1b2c3-vendor",
    }


def test_customer_config_with_image_source_replaces_the_vendor_stack() -> None:
    example = read_stack_config("customer")
    source = vendor_image_source(
        example, token=TOKEN, vendor_account_id=VENDOR_ID, vendor_region="us-east-2"
    )

    config = customer_config(example, token=TOKEN, customer=CUSTOMER, vendor_source=source)

    assert "ecr-cross-account:vendorStack" not in config
    assert source == {
        "ecr-cross-account:vendorImage": (
            f"{VENDOR_ID}.dkr.ecr.us-east-2.amazonaws.com/rake-app-acc-a1b2c3@sha256:{'0' * 64}"
        ),
        "ecr-cross-account:vendorRepositoryArn": (
            f"arn:aws:ecr:us-east-2:{VENDOR_ID}:repository/rake-app-acc-a1b2c3"
        ),
    }
    assert {k: config[k] for k in source} == source


def test_stack_settings_document_keeps_the_secrets_salt() -> None:
    existing = {"encryptionsalt": "v1:abc", "config": {"old:key": "x"}}

    assert stack_settings_document(existing, {"new:key": "y"}) == {
        "encryptionsalt": "v1:abc",
        "config": {"new:key": "y"},
    }
    assert stack_settings_document(None, {"new:key": "y"}) == {"config": {"new:key": "y"}}


def test_expected_creates_for_the_example_stacks() -> None:
    assert expected_creates(read_stack_config("vendor")) == {
        "aws:ecr/repository:Repository": 1,
        "aws:iam/group:Group": 1,
        "aws:iam/user:User": 1,
    }
    assert expected_creates(read_stack_config("customer")) == {
        "aws:ecr/repository:Repository": 2,
        "aws:iam/group:Group": 1,
        "aws:iam/user:User": 1,
        "aws:ecs/cluster:Cluster": 1,
        "aws:ecs/taskDefinition:TaskDefinition": 1,
        "aws:ecs/service:Service": 1,
        "aws:lb/loadBalancer:LoadBalancer": 1,
        "aws:ec2/natGateway:NatGateway": 1,
        "aws:cloudwatch/metricAlarm:MetricAlarm": 8,
        "aws:sns/topic:Topic": 1,
        "aws:s3/bucket:Bucket": 1,
        "aws:wafv2/webAcl:WebAcl": 0,
        "aws:route53/record:Record": 0,
    }


def test_expected_creates_follow_the_operations_options() -> None:
    config = read_stack_config("customer")
    app = config[f"{PROJECT}:app"]
    options = {
        "alarmTopicArn": "arn:aws:sns:us-west-2:999988887777:ops",
        "waf": True,
        "domain": {"name": "nlp.example.com", "zoneId": "Z0123456789ABCDEFGHIJ"},
    }
    expected = expected_creates({**config, f"{PROJECT}:app": {**app, **options}})
    assert {
        kind: expected[kind]
        for kind in ("aws:sns/topic:Topic", "aws:wafv2/webAcl:WebAcl", "aws:route53/record:Record")
    } == {"aws:sns/topic:Topic": 0, "aws:wafv2/webAcl:WebAcl": 1, "aws:route53/record:Record": 1}


def test_creates_by_type_counts_only_creates_of_the_asked_types() -> None:
    steps = [
        ("create", "aws:ecr/repository:Repository"),
        ("create", "aws:ecr/repository:Repository"),
        ("same", "aws:ecr/repository:Repository"),
        ("create", "aws:iam/group:Group"),
    ]

    assert creates_by_type(steps, ["aws:ecr/repository:Repository", "aws:ecs/service:Service"]) == {
        "aws:ecr/repository:Repository": 2,
        "aws:ecs/service:Service": 0,
    }


class _Api(JsonHandler):
    """A loopback stand-in for the load balancer: /health fails twice, then answers 200."""

    health_calls = 0

    def do_GET(self) -> None:
        type(self).health_calls += 1
        if type(self).health_calls <= 2:
            self.send(503, b"<html>503 Service Temporarily Unavailable</html>")
        else:
            self.send(200, b'{"status":"UP"}')

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.headers.get("X-API-Key") != "k":
            self.send(400, b'{"message":"missing key in request header"}')
        else:
            self.send(200, json.dumps(SEED_KEYWORDS if body["text"] else []).encode())


@pytest.fixture
def api() -> Iterator[str]:
    _Api.health_calls = 0
    with serving(_Api) as url:
        yield url


def test_http_json_returns_status_and_body_for_success_and_error(api: str) -> None:
    assert http_json("POST", f"{api}/keywords", body={"text": "x"}, headers={"X-API-Key": "k"}) == (
        200,
        SEED_KEYWORDS,
    )
    assert http_json("POST", f"{api}/keywords", body={"text": "x"}) == (
        400,
        {"message": "missing key in request header"},
    )
    assert http_json("GET", f"{api}/health") == (
        503,
        "<html>503 Service Temporarily Unavailable</html>",
    )


def test_wait_until_healthy_polls_until_200(api: str) -> None:
    assert wait_until_healthy(api, timeout=30, interval=0) == 3


def test_wait_until_healthy_gives_up_at_the_deadline_naming_the_last_answer() -> None:
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    with pytest.raises(TimeoutError) as error:
        # Port 9 (discard) on loopback: nothing listens, every attempt is refused at once.
        wait_until_healthy(
            "http://127.0.0.1:9", timeout=25, interval=10, clock=lambda: now[0], sleep=sleep
        )

    assert str(error.value).startswith(
        "http://127.0.0.1:9/health did not answer 200 within 25 s (4 attempts; last: "
        "URLError: <urlopen error [Errno 111] Connection refused>"
    )


def test_every_operation_has_a_limit_and_all_fit_below_the_tests() -> None:
    # Worst case: both `up`s, the health wait, both `destroy`s, one after the other.
    assert set(OPERATION_LIMITS_S) == {
        ("up", "vendor"),
        ("up", "customer"),
        ("destroy", "customer"),
        ("destroy", "vendor"),
    }
    assert sum(OPERATION_LIMITS_S.values()) + HEALTH_TIMEOUT_S + STOP_GRACE_S < TEST_TIME_LIMIT_S
    # The customer's `up` outlasts the ECS service's own deployment wait, so a failing
    # deployment fails `up` (and rolls back) before the harness interrupts it.
    assert OPERATION_LIMITS_S[("up", "customer")] > SERVICE_DEPLOY_TIMEOUT_MINUTES * 60 + 600


def timeout_marks(tree: ast.Module) -> list[str]:
    """The arguments of every `pytest.mark.timeout(...)` in a module, as written."""
    return [
        ast.unparse(argument)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and ast.unparse(node.func) == "pytest.mark.timeout"
        for argument in [*node.args, *(keyword.value for keyword in node.keywords)]
    ]


def names_imported_from(tree: ast.Module, module: str) -> set[str]:
    return {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == module
        for alias in node.names
    }


def test_the_test_and_its_ci_job_have_room_for_the_limits() -> None:
    # Read, not imported: importing a test module runs it a second time under another name.
    test = ROOT / "tests" / "acceptance" / "test_two_accounts.py"
    tree = ast.parse(test.read_text(), str(test))
    job = load_workflow(ROOT / ".github" / "workflows" / "acceptance.yml")["jobs"]["acceptance"]
    sessions = {
        int(s["with"]["role-duration-seconds"])
        for s in job["steps"]
        if str(s.get("uses", "")).startswith("aws-actions/configure-aws-credentials@")
    }

    assert timeout_marks(tree) == ["TEST_TIME_LIMIT_S"]
    assert "TEST_TIME_LIMIT_S" in names_imported_from(tree, "tests.acceptance.harness")
    # GitHub kills the job (and the test's `finally`) at timeout-minutes; the credentials must
    # outlive the job.
    assert TEST_TIME_LIMIT_S + 600 <= int(job["timeout-minutes"]) * 60 <= min(sessions)


def test_run_bounded_passes_each_line_and_returns_on_success() -> None:
    lines: list[str] = []

    run_bounded([sys.executable, "-c", "print('a'); print('b')"], limit_s=30, on_line=lines.append)

    assert lines == ["a", "b"]


def test_run_bounded_names_the_exit_code_of_a_failed_command() -> None:
    with pytest.raises(OperationFailed) as error:
        run_bounded([sys.executable, "-c", "raise SystemExit(3)"], limit_s=30)

    assert (str(error.value), error.value.timed_out) == (f"`{sys.executable} -c` exited 3", False)


def test_run_bounded_interrupts_at_the_limit_so_the_command_can_clean_up() -> None:
    # As Pulumi does on SIGINT: finish what is in flight (here: say so), then exit.
    script = (
        "import signal, sys, time\n"
        "def stop(*_):\n"
        "    print('interrupted, releasing the lock', flush=True); sys.exit(255)\n"
        "signal.signal(signal.SIGINT, stop)\n"
        "print('working', flush=True); time.sleep(60)\n"
    )
    lines: list[str] = []

    with pytest.raises(OperationFailed) as error:
        run_bounded([sys.executable, "-c", script], limit_s=1, grace_s=30, on_line=lines.append)

    assert lines == ["working", "interrupted, releasing the lock"]
    assert (str(error.value), error.value.timed_out) == (
        f"`{sys.executable} -c` ran out of its 1 s and was interrupted (exit 255)",
        True,
    )


def test_run_bounded_kills_a_command_that_ignores_the_interrupt() -> None:
    script = "import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\ntime.sleep(60)\n"

    with pytest.raises(OperationFailed) as error:
        run_bounded([sys.executable, "-c", script], limit_s=0.5, grace_s=0.5)

    assert str(error.value).endswith("ran out of its 0.5 s and was interrupted (exit -9)")


def test_recovery_hint_names_the_lock_the_commands_and_a_temporary_states_place() -> None:
    hint = recovery_hint(
        "acc-a1b2c3-customer",
        backend_url="file:///tmp/pytest-of-ci/pytest-7/test_up0/state",
        temporary=True,
        env_prefix="AWS_PROFILE=customer ",
        passphrase_file=Path("/tmp/pytest-of-ci/pytest-7/test_up0/passphrase"),
    )

    assert hint.splitlines() == [
        "To finish acc-a1b2c3-customer (from the project directory):",
        "  export AWS_PROFILE=customer PULUMI_BACKEND_URL=file:///tmp/pytest-of-ci/pytest-7/"
        'test_up0/state PULUMI_CONFIG_PASSPHRASE="$(cat /tmp/pytest-of-ci/pytest-7/test_up0/'
        'passphrase)"',
        "  pulumi cancel --stack acc-a1b2c3-customer --yes   # 'currently locked': removes the "
        "lock the killed run left in file:///tmp/pytest-of-ci/pytest-7/test_up0/state/.pulumi/"
        "locks/organization/ecr-cross-account/acc-a1b2c3-customer/",
        "  pulumi stack export --stack acc-a1b2c3-customer --file acc-a1b2c3-customer.json   # "
        "'pending operations': delete the \"pending_operations\" entries (check those resources "
        "in AWS), then",
        "  pulumi stack import --stack acc-a1b2c3-customer --file acc-a1b2c3-customer.json",
        "  pulumi destroy --stack acc-a1b2c3-customer --yes",
        "The state is in file:///tmp/pytest-of-ci/pytest-7/test_up0/state, a temporary "
        "directory of this run: pytest keeps its last three runs' directories on this machine, "
        "and a CI runner's is gone with the job (set ACCEPTANCE_BACKEND_URL in CI, "
        "PULUMI_BACKEND_URL locally, to keep it).",
    ]


def test_recovery_hint_with_a_configured_backend_says_where_the_state_is() -> None:
    hint = recovery_hint(
        "acc-a1b2c3-vendor",
        backend_url="s3://state-bucket",
        temporary=False,
        env_prefix="",
        passphrase_file=Path("/tmp/p"),
    )

    assert hint.splitlines()[-1] == "The state is in s3://state-bucket."
