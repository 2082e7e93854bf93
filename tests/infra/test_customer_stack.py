"""The customer stack file, run through the real `__main__.py` under mocks.

The vendor's StackReference resolves to `VENDOR_OUTPUTS` (what the vendor stack file exports),
except in the test that runs the vendor program first and hands its real exports over.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.infra.app_helpers import (
    ACCOUNT,
    ALB_ARN,
    APP,
    HTTP_RULES,
    HTTPS_RULES,
    LOG_GROUP_ARN,
    REGION,
    SECRET_ARN,
    TARGET_GROUP_ARN,
    awslogs,
    container_definitions_of,
    exec_policy,
    health_check,
    https_listeners,
    listeners_of,
    pull_statement,
    read_secret_statement,
    security_group_rules,
    service_behind_the_alb,
    write_logs_statement,
)
from tests.infra.harness import (
    AVAILABILITY_ZONES_TOKEN,
    LOGIN_STATEMENT,
    TEST_API_KEY,
    VENDOR_IMAGE_URI,
    VENDOR_OUTPUTS,
    StackRun,
    all_of,
    discard_failed_run,
    is_secret_input,
    is_unknown_input,
    named,
    only,
    run_stack,
    stack_config,
    unwrap_secret,
)
from tests.infra.image_helpers import image_uri

VENDOR_STACK = "organization/ecr-cross-account/vendor"
VENDOR_REPO_ARN = "arn:aws:ecr:us-east-2:111122223333:repository/rake-app"
ALB_DNS_NAME = f"app-alb-1234567890.{REGION}.elb.amazonaws.com"
CERTIFICATE_ARN = f"arn:aws:acm:{REGION}:{ACCOUNT}:certificate/0a1b2c3d-1111-2222-3333-444455556666"


def own_repo_arn(name: str) -> str:
    return f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/{name}"


def exec_document(*statements: dict[str, Any]) -> dict[str, Any]:
    """The stack file's execution-role policy with `statements` after the vendor's pull."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            LOGIN_STATEMENT,
            pull_statement("PullNlpClient", own_repo_arn("nlp-client")),
            # The vendor's repository, in the vendor's account and region.
            pull_statement("PullRakeApp", VENDOR_REPO_ARN),
            *statements,
            pull_statement("PullProseApp", own_repo_arn("prose-app")),
            write_logs_statement(LOG_GROUP_ARN),
            read_secret_statement(SECRET_ARN),
        ],
    }


def decrypt_statement(sid: str, key_arn: str) -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": [key_arn]}


def images(run: StackRun) -> dict[str, str]:
    return {c["name"]: c["image"] for c in container_definitions_of(run)}


def test_customer_app_config_in_tests_is_the_stack_files() -> None:
    # APP is written out for the variants below; it must not drift from the stack file.
    assert stack_config("customer")["ecr-cross-account:app"] == APP


def test_customer_reads_the_configured_vendor_stack(customer_run: StackRun) -> None:
    reference = only(customer_run.resources, "pulumi:pulumi:StackReference")
    assert (reference.name, reference.read, reference.inputs) == (
        "vendor",
        True,
        {"name": VENDOR_STACK},
    )


def test_customer_rake_app_runs_exactly_the_vendors_exported_digest(
    customer_run: StackRun,
) -> None:
    assert images(customer_run)["rake-app"] == VENDOR_IMAGE_URI


def test_customer_own_containers_run_their_pushed_digests(customer_run: StackRun) -> None:
    exports = customer_run.exports
    assert {k: v for k, v in images(customer_run).items() if k != "rake-app"} == {
        "nlp-client": exports["nlp_client_image_uri"],
        "prose-app": exports["prose_app_image_uri"],
    }
    pinned = [re.fullmatch(r".+@sha256:[0-9a-f]{64}", uri) for uri in images(customer_run).values()]
    assert all(pinned)


def test_customer_exec_role_pulls_own_and_vendor_repos_and_logs_in_on_star_only(
    customer_run: StackRun,
) -> None:
    assert exec_policy(customer_run) == exec_document()


def test_customer_exec_role_uses_star_for_the_login_action_only(customer_run: StackRun) -> None:
    statements = exec_policy(customer_run)["Statement"]
    assert [s["Action"] for s in statements if s["Resource"] == "*"] == [
        ["ecr:GetAuthorizationToken"]
    ]
    assert [s["Sid"] for s in statements if "ecr:GetAuthorizationToken" in s["Action"]] == [
        "EcrLogin"
    ]


# The non-ingress containers listen on the task's loopback only (the edge reaches them there),
# on the port the config gives them (components/service_ports.py).
RAKE_ENVIRONMENT = [
    {"name": "BIND_HOST", "value": "127.0.0.1"},
    {"name": "RAKE_PORT", "value": "8081"},
]
PROSE_ENVIRONMENT = [
    {"name": "BIND_HOST", "value": "127.0.0.1"},
    {"name": "PROSE_PORT", "value": "8082"},
]


def test_customer_containers_are_exact(customer_run: StackRun) -> None:
    exports = customer_run.exports
    secrets = [{"name": "API_KEY", "valueFrom": SECRET_ARN}]

    def container(name: str, image: str, port: int, **extra: Any) -> dict[str, Any]:
        return {
            "name": name,
            "image": image,
            "essential": True,
            "portMappings": [{"containerPort": port, "protocol": "tcp"}],
            **extra,
            "secrets": secrets,
            "healthCheck": health_check(port),
            "readonlyRootFilesystem": True,
            "linuxParameters": {"initProcessEnabled": True},
            "logConfiguration": awslogs("app-logs", REGION, name),
        }

    assert container_definitions_of(customer_run) == [
        container(
            "nlp-client",
            exports["nlp_client_image_uri"],
            8080,
            environment=[
                {"name": "NLP_CLIENT_PORT", "value": "8080"},
                {"name": "PROSE_ENDPOINT", "value": "http://localhost:8082"},
                {"name": "RAKE_ENDPOINT", "value": "http://localhost:8081"},
            ],
            dependsOn=[
                {"containerName": "rake-app", "condition": "HEALTHY"},
                {"containerName": "prose-app", "condition": "HEALTHY"},
            ],
        ),
        container("rake-app", VENDOR_IMAGE_URI, 8081, environment=RAKE_ENVIRONMENT),
        container("prose-app", exports["prose_app_image_uri"], 8082, environment=PROSE_ENVIRONMENT),
    ]


def test_customer_api_key_is_never_in_a_container_environment(customer_run: StackRun) -> None:
    definitions = container_definitions_of(customer_run)
    assert [
        (c["name"], [e["name"] for e in c.get("environment", [])], c["secrets"])
        for c in definitions
    ] == [
        (
            "nlp-client",
            ["NLP_CLIENT_PORT", "PROSE_ENDPOINT", "RAKE_ENDPOINT"],
            [{"name": "API_KEY", "valueFrom": SECRET_ARN}],
        ),
        ("rake-app", ["BIND_HOST", "RAKE_PORT"], [{"name": "API_KEY", "valueFrom": SECRET_ARN}]),
        ("prose-app", ["BIND_HOST", "PROSE_PORT"], [{"name": "API_KEY", "valueFrom": SECRET_ARN}]),
    ]


def test_customer_api_key_stays_secret_from_config_to_secrets_manager(
    customer_run: StackRun,
) -> None:
    version = named(
        customer_run.resources,
        "aws:secretsmanager/secretVersion:SecretVersion",
        "app-secret-version",
    )
    assert is_secret_input(version.inputs["secretString"])
    assert unwrap_secret(version.inputs["secretString"]) == TEST_API_KEY
    # Nowhere else: not in another input, not in an export.
    others = [r.inputs for r in customer_run.resources if r.urn != version.urn]
    assert TEST_API_KEY not in json.dumps(others)
    assert TEST_API_KEY not in json.dumps(customer_run.exports)


def test_customer_security_groups_let_only_the_alb_reach_the_tasks(
    customer_run: StackRun,
) -> None:
    assert security_group_rules(customer_run) == HTTP_RULES


def test_customer_tasks_accept_nothing_from_the_internet(customer_run: StackRun) -> None:
    task_ingress = [
        rule for rule in security_group_rules(customer_run) if rule[:2] == ("in", "app-sg-tasks-id")
    ]
    assert [peer for *_, peer in task_ingress] == ["app-sg-alb-id"]


def test_customer_service_runs_two_private_tasks_behind_the_alb_with_rollback(
    customer_run: StackRun,
) -> None:
    service = only(customer_run.resources, "aws:ecs/service:Service").inputs
    expected = service_behind_the_alb("nlp-client")
    assert {key: service[key] for key in expected} == expected


def test_customer_target_group_checks_nlp_client_health(customer_run: StackRun) -> None:
    group = only(customer_run.resources, "aws:lb/targetGroup:TargetGroup").inputs
    assert (
        group["targetType"],
        group["port"],
        group["protocol"],
        group["deregistrationDelay"],
        group["healthCheck"]["path"],
        group["healthCheck"]["matcher"],
    ) == ("ip", 8080, "HTTP", 30, "/health", "200")


def test_customer_task_is_sized_from_config_and_autoscales_to_max_count(
    customer_run: StackRun,
) -> None:
    task = only(customer_run.resources, "aws:ecs/taskDefinition:TaskDefinition").inputs
    target = only(customer_run.resources, "aws:appautoscaling/target:Target").inputs
    assert (task["cpu"], task["memory"], task["runtimePlatform"]) == (
        "1024",
        "2048",
        {"operatingSystemFamily": "LINUX", "cpuArchitecture": "X86_64"},
    )
    assert (target["minCapacity"], target["maxCapacity"]) == (2, 4)


def test_customer_app_config_reaches_every_resource_it_sizes() -> None:
    # Pulumi.customer.yaml repeats FargateApp's defaults; other values prove each key is passed.
    app = {
        **APP,
        "desiredCount": 3,
        "maxCount": 6,
        "cpu": 2048,
        "memory": 4096,
        "natGateways": "OnePerAz",
        "logRetentionDays": 14,
    }

    run = run_stack("customer", overrides={"app": app})

    task = only(run.resources, "aws:ecs/taskDefinition:TaskDefinition").inputs
    target = only(run.resources, "aws:appautoscaling/target:Target").inputs
    assert (
        only(run.resources, "aws:ecs/service:Service").inputs["desiredCount"],
        (target["minCapacity"], target["maxCapacity"]),
        (task["cpu"], task["memory"]),
        only(run.resources, "awsx:ec2:Vpc").inputs["natGateways"],
        only(run.resources, "aws:cloudwatch/logGroup:LogGroup").inputs["retentionInDays"],
    ) == (3, (3, 6), ("2048", "4096"), {"strategy": "OnePerAz"}, 14)


def test_customer_log_group_keeps_30_days(customer_run: StackRun) -> None:
    logs = only(customer_run.resources, "aws:cloudwatch/logGroup:LogGroup")
    assert logs.inputs == {"retentionInDays": 30}


def test_customer_every_aws_resource_and_the_vpc_use_the_explicit_provider(
    customer_run: StackRun,
) -> None:
    provider = only(customer_run.resources, "pulumi:providers:aws")
    aws_resources = [r for r in customer_run.resources if r.type.startswith("aws:")]
    vpc = only(customer_run.resources, "awsx:ec2:Vpc")
    assert {r.urn for r in aws_resources if r.provider_urn != provider.urn} == set()
    # awsx builds its children in its own plugin, with the provider it is handed here.
    assert vpc.providers["aws"].rsplit("::", 1)[0] == provider.urn


def test_customer_exports_the_app_url_names_and_nothing_secret(
    customer_run: StackRun,
) -> None:
    registry = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
    assert customer_run.exports == {
        "account_id": ACCOUNT,
        "region": REGION,
        "nlp_client_repository_url": f"{registry}/nlp-client",
        "nlp_client_repository_arn": own_repo_arn("nlp-client"),
        "nlp_client_image_uri": image_uri(registry, "nlp-client", "services/nlp_client"),
        "prose_app_repository_url": f"{registry}/prose-app",
        "prose_app_repository_arn": own_repo_arn("prose-app"),
        "prose_app_image_uri": image_uri(registry, "prose-app", "services/prose_app"),
        "nlp_client_pull_accounts": [],
        "prose_app_pull_accounts": [],
        "developer_group_name": "Development",
        "service_url": f"http://{ALB_DNS_NAME}",
        "cluster_name": "app-cluster",
        "service_name": "app-service",
        "log_group_name": "app-logs",
        # The topic the stack creates (no alarmTopicArn) and the access-log bucket; no WAF.
        "alarm_topic_arn": f"arn:aws:sns:{REGION}:{ACCOUNT}:app-alarms-topic",
        "access_log_bucket": "app-access-logs-bucket",
    }
    assert customer_run.secret_exports == set()


def test_customer_with_certificate_serves_https_and_redirects_http() -> None:
    run = run_stack("customer", overrides={"app": {**APP, "certificateArn": CERTIFICATE_ARN}})

    assert listeners_of(run) == https_listeners(
        alb_arn=ALB_ARN, target_group_arn=TARGET_GROUP_ARN, certificate_arn=CERTIFICATE_ARN
    )
    assert security_group_rules(run) == HTTPS_RULES
    assert run.exports["service_url"] == f"https://{ALB_DNS_NAME}"


def test_customer_vendor_image_variant_needs_no_stack_reference() -> None:
    pinned = f"111122223333.dkr.ecr.us-east-2.amazonaws.com/rake-app@sha256:{'cd' * 32}"

    run = run_stack(
        "customer",
        remove=("vendorStack",),
        overrides={"vendorImage": pinned, "vendorRepositoryArn": VENDOR_REPO_ARN},
    )

    assert all_of(run.resources, "pulumi:pulumi:StackReference") == []
    assert images(run)["rake-app"] == pinned
    assert exec_policy(run) == exec_document()


def test_customer_without_vendor_source_fails_saying_how_to_set_it() -> None:
    with pytest.raises(ValueError) as exc:
        run_stack("customer", remove=("vendorStack",))

    assert str(exc.value) == (
        "`vendorStack` is not set; set it with "
        "`pulumi config set vendorStack <org>/<project>/vendor`."
    )


def test_customer_with_both_vendor_sources_fails_asking_for_one() -> None:
    with pytest.raises(ValueError) as exc:
        run_stack(
            "customer",
            overrides={"vendorImage": VENDOR_IMAGE_URI, "vendorRepositoryArn": VENDOR_REPO_ARN},
        )

    assert str(exc.value) == "Set only one of `vendorStack` or `vendorImage`."


@pytest.mark.parametrize(
    ("vendor_outputs", "message"),
    [
        pytest.param(
            {k: v for k, v in VENDOR_OUTPUTS.items() if k != "rake_app_image_uri"},
            f"{VENDOR_STACK} output rake_app_image_uri: expected an ECR image pinned by digest, "
            "got None.",
            id="missing-image",
        ),
        pytest.param(
            {**VENDOR_OUTPUTS, "rake_app_image_uri": VENDOR_IMAGE_URI.split("@")[0] + ":1.1.0"},
            f"{VENDOR_STACK} output rake_app_image_uri: expected an ECR image pinned by digest, "
            "got '111122223333.dkr.ecr.us-east-2.amazonaws.com/rake-app:1.1.0'.",
            id="tag-not-digest",
        ),
        pytest.param(
            {k: v for k, v in VENDOR_OUTPUTS.items() if k != "rake_app_repository_arn"},
            f"{VENDOR_STACK} output rake_app_repository_arn: expected an ECR repository ARN, "
            "got None.",
            id="missing-arn",
        ),
    ],
)
def test_customer_bad_vendor_outputs_fail_naming_the_output(
    vendor_outputs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(message) + "$"):
        run_stack("customer", vendor_outputs=vendor_outputs)
    discard_failed_run()


def test_customer_runs_the_image_the_vendor_program_actually_exports(
    vendor_run: StackRun,
) -> None:
    # given: the vendor program's own exports, not a hand-written copy of them
    exported = vendor_run.exports

    # when
    run = run_stack("customer", vendor_outputs=exported)

    # then: the names the customer reads are the names the vendor writes
    assert images(run)["rake-app"] == exported["rake_app_image_uri"]
    assert exported["rake_app_repository_arn"] == VENDOR_REPO_ARN
    assert exec_policy(run) == exec_document()


def test_customer_pulls_a_kms_encrypted_vendor_repository_without_key_permission() -> None:
    # given: a vendor whose repository uses its own KMS key. ECR decrypts with its own grant on
    # the key: the puller needs no kms:Decrypt and no statement in the key's policy.
    # https://docs.aws.amazon.com/AmazonECR/latest/userguide/encryption-at-rest.html
    key = "arn:aws:kms:us-east-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    repositories = {
        "rake-app": {"source": "services/rake_app", "kmsKeyArn": key, "pullAccounts": [ACCOUNT]}
    }
    vendor = run_stack("vendor", overrides={"repositories": repositories})

    # when
    run = run_stack("customer", vendor_outputs=vendor.exports)

    # then: pull on the vendor's repository, nothing on its key
    assert exec_policy(run) == exec_document()


def test_customer_vendor_kms_key_setting_is_refused_with_the_reason() -> None:
    key = "arn:aws:kms:us-east-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"

    with pytest.raises(ValueError) as exc:
        run_stack(
            "customer",
            remove=("vendorStack",),
            overrides={
                "vendorImage": VENDOR_IMAGE_URI,
                "vendorRepositoryArn": VENDOR_REPO_ARN,
                "vendorKmsKeyArn": key,
            },
        )

    assert str(exc.value) == (
        "ecr-cross-account:vendorKmsKeyArn: expected no key: pulling from a KMS-encrypted "
        "repository needs no key permission, ECR decrypts with its own grant "
        "(https://docs.aws.amazon.com/AmazonECR/latest/userguide/encryption-at-rest.html), "
        "got a key ARN."
    )


def test_customer_app_secret_kms_key_encrypts_the_api_key_and_is_granted() -> None:
    key = "arn:aws:kms:us-west-2:999988887777:key/1234abcd-12ab-34cd-56ef-1234567890ab"

    run = run_stack("customer", overrides={"app": {**APP, "secretKmsKeyArn": key}})

    secret = only(run.resources, "aws:secretsmanager/secret:Secret").inputs
    assert secret["kmsKeyId"] == key
    assert exec_policy(run) == {
        "Version": "2012-10-17",
        "Statement": [*exec_document()["Statement"], decrypt_statement("DecryptApiKey", key)],
    }


def test_customer_first_preview_registers_everything_and_exports_only_what_it_knows(
    customer_run: StackRun,
) -> None:
    # A first preview knows no image digest, repository, ALB, target group or secret ARN, DNS
    # name or secret version (harness: `unknowns`); the vendor's outputs are known.
    run = run_stack("customer", preview=True)

    task = only(run.resources, "aws:ecs/taskDefinition:TaskDefinition")
    assert run.registered() == customer_run.registered()
    assert is_unknown_input(task.inputs["containerDefinitions"])
    assert (run.exports, run.unknown_exports, run.secret_exports) == (
        {
            "account_id": ACCOUNT,
            "region": REGION,
            "nlp_client_pull_accounts": [],
            "prose_app_pull_accounts": [],
            "developer_group_name": "Development",
            "cluster_name": "app-cluster",
            "service_name": "app-service",
            "log_group_name": "app-logs",
        },
        {
            "nlp_client_image_uri",
            "nlp_client_repository_arn",
            "nlp_client_repository_url",
            "prose_app_image_uri",
            "prose_app_repository_arn",
            "prose_app_repository_url",
            "service_url",
            "alarm_topic_arn",
            "access_log_bucket",
        },
        set(),
    )


def test_customer_vpc_spans_the_first_two_standard_zones_with_an_explicit_strategy(
    customer_run: StackRun,
) -> None:
    # The mocks list an opted-in Local Zone (us-west-2-lax-1a) that sorts before every standard
    # zone; only the zone-type filter keeps it out. The lookup goes through the stack's provider.
    provider = only(customer_run.resources, "pulumi:providers:aws")
    vpc = only(customer_run.resources, "awsx:ec2:Vpc")
    (lookup,) = [c for c in customer_run.calls if c[0] == AVAILABILITY_ZONES_TOKEN]

    assert (vpc.inputs["availabilityZoneNames"], vpc.inputs["subnetStrategy"]) == (
        ["us-west-2a", "us-west-2b"],
        "Auto",
    )
    assert "numberOfAvailabilityZones" not in vpc.inputs  # awsx refuses both
    assert lookup[1] == {
        "state": "available",
        "filters": [{"name": "zone-type", "values": ["availability-zone"]}],
    }
    assert lookup[2].rsplit("::", 1)[0] == provider.urn


def test_customer_availability_zones_from_config_skip_the_lookup() -> None:
    run = run_stack(
        "customer", overrides={"app": {**APP, "availabilityZones": ["us-west-2c", "us-west-2a"]}}
    )

    vpc = only(run.resources, "awsx:ec2:Vpc")
    assert vpc.inputs["availabilityZoneNames"] == ["us-west-2c", "us-west-2a"]
    assert [c for c in run.calls if c[0] == AVAILABILITY_ZONES_TOKEN] == []


@pytest.mark.parametrize(
    ("zones", "message"),
    [
        pytest.param(
            ["us-west-2a"],
            "ecr-cross-account:app.availabilityZones: expected at least 2 zones (the load "
            "balancer needs 2), got ['us-west-2a'].",
            id="one-zone",
        ),
        pytest.param(
            ["us-west-2a", "us-west-2-lax-1a"],
            "ecr-cross-account:app.availabilityZones[1]: expected a standard availability zone "
            "of us-west-2 such as 'us-west-2a', got 'us-west-2-lax-1a'.",
            id="local-zone",
        ),
        pytest.param(
            ["us-east-2a", "us-east-2b"],
            "ecr-cross-account:app.availabilityZones[0]: expected a standard availability zone "
            "of us-west-2 such as 'us-west-2a', got 'us-east-2a'.\n"
            "ecr-cross-account:app.availabilityZones[1]: expected a standard availability zone "
            "of us-west-2 such as 'us-west-2a', got 'us-east-2b'.",
            id="other-region",
        ),
        pytest.param(
            ["us-west-2a", "us-west-2a"],
            "ecr-cross-account:app.availabilityZones[1]: expected no duplicates, got 'us-west-2a'.",
            id="repeated",
        ),
    ],
)
def test_customer_bad_availability_zones_fail_naming_the_key(
    zones: list[str], message: str
) -> None:
    with pytest.raises(ValueError) as exc:
        run_stack("customer", overrides={"app": {**APP, "availabilityZones": zones}})
    assert str(exc.value) == message


def test_customer_not_shared_with_fails_at_preview_naming_its_account() -> None:
    # The vendor shares rake-app with another account only: the customer learns it at preview,
    # in one line, not from tasks that cannot pull.
    outputs = {**VENDOR_OUTPUTS, "rake_app_pull_accounts": ["444455556666"]}

    message = (
        f"{VENDOR_STACK} does not share rake-app with account {ACCOUNT} (it may be pulled by "
        "444455556666): the vendor adds it to `repositories.rake-app.pullAccounts` and runs "
        "`pulumi up`."
    )
    # The engine reports the resources the value was on the way to; ours is the last line.
    with pytest.raises(ValueError, match=re.escape(message) + "$"):
        run_stack("customer", vendor_outputs=outputs, preview=True)
    discard_failed_run()


def test_customer_of_a_vendor_sharing_with_an_organization_passes_the_check() -> None:
    outputs = {
        **VENDOR_OUTPUTS,
        "rake_app_pull_accounts": [],
        "rake_app_pull_org_id": "o-abc123def4",
    }

    run = run_stack("customer", vendor_outputs=outputs)

    assert images(run)["rake-app"] == VENDOR_IMAGE_URI


def test_customer_of_a_vendor_without_the_sharing_output_fails_naming_it() -> None:
    outputs = {k: v for k, v in VENDOR_OUTPUTS.items() if k != "rake_app_pull_accounts"}

    message = (
        f"{VENDOR_STACK} output rake_app_pull_accounts: expected the accounts that may pull, "
        "got None."
    )
    with pytest.raises(ValueError, match=re.escape(message) + "$"):
        run_stack("customer", vendor_outputs=outputs)
    discard_failed_run()
