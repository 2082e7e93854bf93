"""Settings validation as pure functions, plus the real stack files and Pulumi.yaml defaults."""

from __future__ import annotations

import json
import re
from typing import Any, get_origin

import pulumi
import pytest
from pulumi.runtime.config import set_all_config
from pulumi.runtime.sync_await import _sync_await
from pydantic.fields import FieldInfo

from components.aws_values import FARGATE_SIZES_URL
from components.settings import (
    AppSettings,
    ContainerSettings,
    DevelopersSettings,
    RepositorySettings,
    Settings,
    load_settings,
    parse_settings,
)
from components.shared_repo import repository_output
from components.vendor import VendorSource
from tests.infra.harness import PROJECT, ROOT, as_config_string, stack_config, yaml_config
from tests.infra.settings_helpers import (
    VENDOR_ARN,
    VENDOR_IMAGE,
    P,
    customer_app,
    errors_of,
    parse,
    stack_values,
)


def test_settings_vendor_stack_file_parses_to_exact_settings() -> None:
    assert parse("vendor") == Settings(
        account_id="111122223333",
        region="us-east-2",
        developers=DevelopersSettings(group="Development", users=("Developer-01",)),
        repositories={
            "rake-app": RepositorySettings(
                source="services/rake_app", pull_accounts=("999988887777",)
            ),
        },
        image_tag="1.1.0",
        force_delete=True,
        keep_release_images=10,
    )


def test_settings_customer_stack_file_parses_to_exact_settings() -> None:
    settings = parse("customer")
    assert settings.api_key is not None
    assert settings == Settings(
        account_id="999988887777",
        region="us-west-2",
        developers=DevelopersSettings(group="Development", users=("Developer-01",)),
        repositories={
            "nlp-client": RepositorySettings(source="services/nlp_client"),
            "prose-app": RepositorySettings(source="services/prose_app"),
        },
        force_delete=True,
        vendor_stack="organization/ecr-cross-account/vendor",
        app=AppSettings(
            containers=(
                ContainerSettings(
                    name="nlp-client",
                    port=8080,
                    repository="nlp-client",
                    ingress=True,
                    depends_on=("rake-app", "prose-app"),
                ),
                ContainerSettings(
                    name="rake-app",
                    port=8081,
                    vendor_repository="rake-app",
                    environment={"BIND_HOST": "127.0.0.1"},
                ),
                ContainerSettings(
                    name="prose-app",
                    port=8082,
                    repository="prose-app",
                    environment={"BIND_HOST": "127.0.0.1"},
                ),
            ),
            desired_count=2,
            max_count=4,
            cpu=1024,
            memory=2048,
            nat_gateways="Single",
            log_retention_days=30,
        ),
        api_key=settings.api_key,
    )
    assert settings.app is not None and settings.app.ingress.name == "nlp-client"


# Pulumi.yaml's config `type`s and the Python types of the models' fields.
PULUMI_TYPES = {"string": str, "boolean": bool, "integer": int}


def simple_type(field: FieldInfo) -> str | None:
    """The Pulumi.yaml `type` of a field of a simple type (None for objects and lists)."""
    annotation = field.annotation
    if get_origin(annotation) is not None:  # `X | None`: optional keys are never declared
        return None
    return next((name for name, kind in PULUMI_TYPES.items() if annotation is kind), None)


def test_pulumi_yaml_declares_keys_exactly_as_the_settings_models_do() -> None:
    declared = {k: v for k, v in yaml_config(ROOT / "Pulumi.yaml").items() if ":" not in k}
    fields = {str(field.alias): field for field in Settings.model_fields.values()}
    assert set(declared) <= set(fields)
    assert {
        key: (d["type"], d.get("default"), d["description"]) for key, d in declared.items()
    } == {
        key: (
            simple_type(fields[key]),
            None if fields[key].is_required() else fields[key].default,
            fields[key].description,
        )
        for key in declared
    }
    # Pulumi asks for a declared key without a default before the program runs: every required
    # key of a simple type is declared, so `pulumi up` names it at once.
    required = {
        key
        for key, field in fields.items()
        if field.is_required() and simple_type(field) and ":" not in key
    }
    assert required == {"accountId"} and required <= set(declared)


def test_settings_omitted_optional_keys_take_defaults() -> None:
    settings = parse("vendor", forceDelete=None)
    assert (settings.force_delete, settings.create_access_keys, settings.assume_role) == (
        False,
        False,
        None,
    )


def test_settings_accepts_values_as_the_cli_passes_them_json_and_strings() -> None:
    settings = parse(
        "vendor",
        developers='{"group": "Devs", "users": ["a", "b"]}',
        forceDelete="false",
        keepReleaseImages="3",
        createAccessKeys="true",
        pgpKey="keybase:devops",
    )
    assert (
        settings.developers,
        settings.force_delete,
        settings.keep_release_images,
        settings.create_access_keys,
    ) == (DevelopersSettings(group="Devs", users=("a", "b")), False, 3, True)


OTHER_KMS_KEY = "arn:aws:kms:eu-west-1:999988887777:key/1234abcd-12ab-34cd-56ef-1234567890ab"
OTHER_VENDOR_ARN = "arn:aws:ecr:us-east-2:111122223333:repository/other"
VENDOR_KMS_KEY = "arn:aws:kms:us-east-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
TAGGED_VENDOR_IMAGE = "111122223333.dkr.ecr.us-east-2.amazonaws.com/rake-app:1.1.0"
# `gpg --export | base64` wraps at 76 columns; the provider cannot decode that.
WRAPPED_PGP_KEY = "mQINBGa" + "A" * 70 + "\n" + "A" * 20


def _rake_app(**keys: Any) -> dict[str, Any]:
    return {"rake-app": {"source": "services/rake_app", **keys}}


# One bad configuration each: (stack, keys changed as `parse` takes them, the whole error).
CONFIG_ERRORS = [
    pytest.param(
        "vendor",
        {"createAccessKeys": True},
        "ecr-cross-account:createAccessKeys: expected true only with `pgpKey` (the secret key "
        "is exported only encrypted to it), got no `pgpKey`.",
        id="access-keys-without-a-pgp-key",
    ),
    pytest.param(
        "vendor",
        {"pgpKey": WRAPPED_PGP_KEY},
        "ecr-cross-account:pgpKey: expected a base64 PGP public key on one line "
        "(`gpg --export <id> | base64 -w0`) or keybase:<user>, got "
        f"{'mQINBGa' + 'A' * 70 + chr(10) + 'A' * 20!r}.",
        id="pgp-key-split-over-lines",
    ),
    pytest.param(
        "vendor",
        {"accountId": "11112222333"},
        "ecr-cross-account:accountId: expected a 12-digit AWS account ID (in quotes), "
        "got '11112222333'.",
        id="short-account-id",
    ),
    pytest.param(
        "vendor",
        {"repositories": _rake_app(pullAccounts=["999988887777", "12345"])},
        "ecr-cross-account:repositories.rake-app.pullAccounts[1]: "
        "expected a 12-digit AWS account ID (in quotes, or set with `--type string`), got '12345'.",
        id="bad-pull-account-named-by-its-index",
    ),
    pytest.param(
        "vendor",
        # 012345678901 typed without `--type string` reaches the program as 12345678901.
        {"repositories": _rake_app(pullAccounts=[12345678901])},
        "ecr-cross-account:repositories.rake-app.pullAccounts[0]: "
        "expected a 12-digit AWS account ID (in quotes, or set with `--type string`), "
        "got 12345678901.",
        id="pull-account-number-that-lost-its-leading-zero",
    ),
    pytest.param(
        "vendor",
        {"repositories": _rake_app(pullOrgId="abc123def456")},
        "ecr-cross-account:repositories.rake-app.pullOrgId: expected an AWS Organizations ID "
        "such as 'o-a1b2c3d4e5', got 'abc123def456'.",
        id="org-id-without-o-prefix",
    ),
    pytest.param(
        "vendor",
        {"imageTagg": "2.0.0", "repositories": _rake_app(pullAcounts=["999988887777"])},
        "ecr-cross-account:imageTagg: expected one of `acceptReplicationFrom`, `accountId`, "
        "`apiKey`, `app`, `assumeRole`, `createAccessKeys`, `developers`, `forceDelete`, "
        "`imageTag`, `keepReleaseImages`, `pgpKey`, `repositories`, `scanning`, `vendorImage`, "
        "`vendorKmsKeyArn`, `vendorMirror`, `vendorMirrorPrefix`, `vendorRepositoryArn`, "
        "`vendorStack` (unknown key), got 'imageTagg'.\n"
        "ecr-cross-account:repositories.rake-app.pullAcounts: expected one of `cacheAccounts`, "
        "`kmsKeyArn`, `pullAccounts`, `pullOrgId`, `replicateTo`, `source` (unknown key), got "
        "'pullAcounts'.",
        id="unknown-keys-at-every-level",
    ),
    pytest.param(
        "vendor",
        {"region": "us-east"},
        "aws:region: expected an AWS region name such as 'us-east-2', got 'us-east'.",
        id="bad-region-named-by-the-aws-key",
    ),
    pytest.param(
        "vendor",
        {"accountId": None, "developers": None, "repositories": None},
        "`accountId` is not set; set it with `pulumi config set accountId "
        "<12-digit account ID>`.\n"
        "`developers` is not set; set it with `pulumi config set --path developers.group "
        "Development`.\n"
        '`repositories` is not set; set it with `pulumi config set --path "repositories.'
        '<name>.source" services/<name>`.',
        id="missing-required-keys-say-how-to-set-them",
    ),
    pytest.param(
        "vendor",
        # ECR decrypts with its own grant: a consumer has no key to name (SharedRepo's note).
        {"vendorKmsKeyArn": VENDOR_KMS_KEY},
        "ecr-cross-account:vendorKmsKeyArn: expected no key: pulling from a KMS-encrypted "
        "repository needs no key permission, ECR decrypts with its own grant "
        "(https://docs.aws.amazon.com/AmazonECR/latest/userguide/encryption-at-rest.html), "
        "got a key ARN.",
        id="vendor-kms-key-on-any-stack",
    ),
    pytest.param(
        "customer",
        {"vendorImage": VENDOR_IMAGE, "vendorRepositoryArn": VENDOR_ARN},
        "Set only one of `vendorStack` or `vendorImage`.",
        id="vendor-stack-and-image-together",
    ),
    pytest.param(
        "customer",
        {"vendorStack": None},
        "`vendorStack` is not set; set it with `pulumi config set vendorStack "
        "<org>/<project>/vendor`.",
        id="vendor-repository-without-a-source",
    ),
    pytest.param(
        "customer",
        {
            "vendorStack": None,
            "vendorImage": TAGGED_VENDOR_IMAGE,
            "vendorRepositoryArn": VENDOR_ARN,
        },
        "ecr-cross-account:vendorImage: expected an ECR image pinned by digest "
        "(<account>.dkr.ecr.<region>.amazonaws.com/<name>@sha256:<64 hex digits>), "
        "got '111122223333.dkr.ecr.us-east-2.amazonaws.com/rake-app:1.1.0'.",
        id="vendor-image-not-pinned-by-digest",
    ),
    pytest.param(
        "customer",
        {"vendorStack": None, "vendorImage": VENDOR_IMAGE, "vendorRepositoryArn": OTHER_VENDOR_ARN},
        "ecr-cross-account:vendorRepositoryArn: expected the ARN of the repository "
        f"`vendorImage` comes from, got '{OTHER_VENDOR_ARN}'.",
        id="vendor-arn-not-of-the-vendor-image",
    ),
    pytest.param(
        "customer",
        {"vendorStack": None, "vendorImage": VENDOR_IMAGE},
        "`vendorRepositoryArn` is not set; set it with `pulumi config set vendorRepositoryArn "
        "arn:aws:ecr:<region>:<account>:repository/<name>`.",
        id="vendor-image-without-arn",
    ),
    pytest.param(
        "customer",
        {"app": customer_app(secretKmsKeyArn=OTHER_KMS_KEY)},
        "ecr-cross-account:app.secretKmsKeyArn: expected a KMS key in us-west-2, "
        f"got '{OTHER_KMS_KEY}'.",
        id="app-secret-kms-key-in-another-region",
    ),
    pytest.param(
        "customer",
        {"app": customer_app(cpu=1024, memory=1024)},
        "ecr-cross-account:app.memory: expected a Fargate memory size for cpu 1024: "
        f"2048, 3072, 4096, 5120, 6144, 7168, 8192 (see {FARGATE_SIZES_URL}), got 1024.",
        id="fargate-size-with-the-doc-url",
    ),
    pytest.param(
        "customer",
        {"app": customer_app(natGateways="Two")},
        "ecr-cross-account:app.natGateways: expected one of `None`, `OnePerAz`, `Single` "
        "(`None` only with VPC endpoints and an image in the stack's region), got 'Two'.",
        id="nat-gateways",
    ),
    pytest.param(
        "customer",
        {"app": customer_app(natGateways="None")},
        "ecr-cross-account:app.natGateways: expected `None` only with `app.vpcEndpoints: "
        "true` (without NAT, tasks reach ECR, S3, CloudWatch Logs and Secrets Manager only "
        "through VPC endpoints), got 'None'.\n"
        "ecr-cross-account:app.natGateways: expected `None` only with `vendorMirror: "
        "replication` or a `vendorImage` in us-west-2 (an ECR endpoint serves its own region "
        "only, https://docs.aws.amazon.com/AmazonECR/latest/userguide/vpc-endpoints.html), "
        "got 'None'.",
        id="nat-gateways-none",
    ),
    pytest.param(
        "customer",
        {"app": customer_app(logRetentionDays=31)},
        "ecr-cross-account:app.logRetentionDays: expected a CloudWatch Logs retention: "
        "1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, "
        "2557, 2922, 3288, 3653, got 31.",
        id="log-retention",
    ),
    pytest.param(
        "customer",
        {"app": customer_app(desiredCount=3, maxCount=2)},
        "ecr-cross-account:app.maxCount: expected at least desiredCount (3), got 2.",
        id="max-below-desired",
    ),
    pytest.param(
        "customer",
        {"app": customer_app(certificateArn="arn:aws:acm:us-east-1:999988887777:certificate/abc")},
        "ecr-cross-account:app.certificateArn: expected a certificate in the stack's "
        "region us-west-2, got 'arn:aws:acm:us-east-1:999988887777:certificate/abc'.",
        id="certificate-region",
    ),
]


@pytest.mark.parametrize(("stack", "changes", "message"), CONFIG_ERRORS)
def test_settings_error_names_the_key_and_what_was_expected(
    stack: str, changes: dict[str, Any], message: str
) -> None:
    assert errors_of(stack, **changes) == message


def test_settings_pull_account_stored_as_a_number_reads_as_its_digits() -> None:
    # What `pulumi config set --path 'repositories.rake-app.pullAccounts[0]' 222222222222` stores.
    repositories = {"rake-app": {"source": "services/rake_app", "pullAccounts": [222222222222]}}
    repository = parse("vendor", repositories=repositories).repositories["rake-app"]
    assert repository.pull_accounts == ("222222222222",)


def test_settings_lists_every_problem_one_per_line() -> None:
    message = errors_of("vendor", accountId="1", imageTag="-bad", keepReleaseImages=0)
    assert message.splitlines() == [
        "ecr-cross-account:accountId: expected a 12-digit AWS account ID (in quotes), got '1'.",
        "ecr-cross-account:imageTag: expected a Docker tag such as '1.1.0' (at most 115 "
        "characters), got '-bad'.",
        "ecr-cross-account:keepReleaseImages: expected an integer from 1 to 1000, got 0.",
    ]


def test_image_tag_leaves_room_for_the_content_suffix_in_docker_s_128_characters() -> None:
    # The tag pushed is `<imageTag>-<12 hex>`: 115 + 13 = 128.
    assert parse("vendor", imageTag="1" * 115).image_tag == "1" * 115
    assert errors_of("vendor", imageTag="1" * 116).endswith(f"got '{'1' * 116}'.")


def test_settings_app_without_api_key_says_to_set_the_secret() -> None:
    values = stack_values("customer")
    with pytest.raises(ValueError) as exc_info:
        parse_settings(values, region="us-west-2", api_key=None)
    assert str(exc_info.value) == (
        "`apiKey` is not set; set it with `pulumi config set --secret apiKey <value>`."
    )


def test_settings_plaintext_api_key_is_rejected_without_echoing_it() -> None:
    values = stack_values("customer")
    with pytest.raises(ValueError) as exc_info:
        parse_settings(
            values,
            region="us-west-2",
            api_key=pulumi.Output.secret("hunter2-plain"),
            api_key_is_secret=False,
        )
    assert str(exc_info.value) == (
        "ecr-cross-account:apiKey: expected a secret (`pulumi config set --secret apiKey "
        "<value>`), got a plaintext value."
    )


def test_settings_vendor_image_variant_parses() -> None:
    settings = parse(
        "customer", vendorStack=None, vendorImage=VENDOR_IMAGE, vendorRepositoryArn=VENDOR_ARN
    )
    assert settings.vendor == VendorSource(image=VENDOR_IMAGE, repository_arn=VENDOR_ARN)


def test_settings_rejects_container_values_naming_each_path() -> None:
    containers = [
        {"name": "edge", "repository": "nlp-client", "port": 8080, "ingress": True},
        {"repository": "prose-app", "port": 0, "dependsOn": "rake-app"},
        {"name": "third", "port": 8082, "environment": {"API_KEY": "x", "PORT": 8082}},
    ]
    assert errors_of("customer", app=customer_app(containers=containers)).splitlines() == [
        "ecr-cross-account:app.containers[1].name: expected a container name, got None.",
        "ecr-cross-account:app.containers[1].port: expected an integer from 1 to 65535, got 0.",
        "ecr-cross-account:app.containers[1].dependsOn: expected a list, got 'rake-app'.",
        "ecr-cross-account:app.containers[2].environment.PORT: expected a string (quote "
        "numbers), got 8082.",
        "ecr-cross-account:app.containers[2].environment.API_KEY: expected no API_KEY (use the "
        "secret `apiKey`), got one.",
    ]


def test_settings_rejects_container_mistakes_between_values_naming_each_path() -> None:
    # Checked once every value is valid on its own (settings_rules).
    containers = [
        {"name": "edge", "repository": "nlp-client", "port": 8080, "ingress": True},
        {"name": "other", "repository": "missing", "port": 8080, "ingress": True},
        {"name": "third", "port": 8082, "dependsOn": ["ghost"]},
        {"name": "edge", "repository": "prose-app", "vendorRepository": "rake-app", "port": 8083},
    ]
    assert errors_of("customer", app=customer_app(containers=containers)).splitlines() == [
        "ecr-cross-account:app.containers[1].repository: expected a repository of this stack "
        "(one of `nlp-client`, `prose-app`), got 'missing'.",
        "ecr-cross-account:app.containers[1].port: expected a port no other container uses, "
        "got 8080.",
        "ecr-cross-account:app.containers[2].repository: expected exactly one of `repository` "
        "or `vendorRepository`, got neither.",
        "ecr-cross-account:app.containers[2].dependsOn[0]: expected the name of another "
        "container (one of `edge`, `other`), got 'ghost'.",
        "ecr-cross-account:app.containers[3].repository: expected exactly one of `repository` "
        "or `vendorRepository`, got both.",
        "ecr-cross-account:app.containers[3].name: expected a name no other container has, "
        "got 'edge'.",
        "ecr-cross-account:app.containers: expected exactly one container with `ingress: true`, "
        "got ['edge', 'other'].",
    ]


def test_load_settings_keeps_the_api_key_a_secret_output() -> None:
    config = {k: as_config_string(v) for k, v in stack_config("customer").items()}
    config[f"{P}apiKey"] = "s3cret-test-key"
    set_all_config(config, [f"{P}apiKey"])
    try:
        settings = load_settings(PROJECT)
        assert settings.api_key is not None
        assert _sync_await(settings.api_key.is_secret()) is True
        assert _sync_await(settings.api_key.future()) == "s3cret-test-key"
    finally:
        set_all_config({}, [])


def test_repository_output_is_snake_case_attribute_of_the_repository() -> None:
    assert repository_output("vendor/rake-app.v2", "image_uri") == "vendor_rake_app_v2_image_uri"


def test_settings_error_lines_share_one_format() -> None:
    message = errors_of("vendor", accountId="x", imageTag="?")
    pattern = re.compile(r"ecr-cross-account:\w+: expected .+, got .+\.")
    assert [bool(pattern.fullmatch(line)) for line in message.splitlines()] == [True, True]


def test_load_settings_reads_config_and_secret_keys_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = {k: as_config_string(v) for k, v in stack_config("customer").items()}
    config[f"{P}apiKey"] = "env-test-key"
    set_all_config({}, [])
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps(config))
    monkeypatch.setenv("PULUMI_CONFIG_SECRET_KEYS", json.dumps([f"{P}apiKey"]))
    settings = load_settings(PROJECT)
    assert (settings.account_id, settings.vendor) == (
        "999988887777",
        VendorSource(stack="organization/ecr-cross-account/vendor"),
    )
    assert settings.api_key is not None
    assert _sync_await(settings.api_key.is_secret()) is True


@pytest.mark.parametrize(
    "stack", [pytest.param("vendor", id="vendor"), pytest.param("customer", id="customer")]
)
def test_settings_every_repository_source_holds_a_dockerfile(stack: str) -> None:
    # SharedRepo builds <source>/Dockerfile with the parent directory (services/) as context.
    sources = [repository.source for repository in parse(stack).repositories.values()]
    assert [s for s in sources if not (ROOT / s / "Dockerfile").is_file()] == []


def test_settings_errors_never_echo_a_value_set_as_secret() -> None:
    values = {**stack_values("vendor"), "accountId": "0000-secret-0000"}
    with pytest.raises(ValueError) as exc_info:
        parse_settings(values, region="us-east-2", secret_keys=frozenset({"accountId"}))
    assert str(exc_info.value) == (
        "ecr-cross-account:accountId: expected a 12-digit AWS account ID (in quotes), "
        "got a secret value (not shown)."
    )
    # pydantic's own error, which shows values, is neither the cause nor printed as context.
    assert (exc_info.value.__cause__, exc_info.value.__suppress_context__) == (None, True)
