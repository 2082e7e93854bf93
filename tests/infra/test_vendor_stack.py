"""The vendor stack file, run through the real `__main__.py` under mocks."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from components.iam import lifecycle_policy, repository_pull_policy
from tests.infra.harness import (
    LOGIN_STATEMENT,
    PULL_AND_DESCRIBE_ACTIONS,
    PULL_PUSH_ACTIONS,
    StackRun,
    all_of,
    only,
    run_stack,
    unwrap_secret,
)
from tests.infra.image_helpers import build_args, image_tag, image_uri

ACCOUNT = "111122223333"
REGISTRY = f"{ACCOUNT}.dkr.ecr.us-east-2.amazonaws.com"
REPO_ARN = f"arn:aws:ecr:us-east-2:{ACCOUNT}:repository/rake-app"
RAKE_APP_SOURCE = {"source": "services/rake_app"}
# The developers' group policy of the stack file: log in, pull and push rake-app.
DEVELOPER_STATEMENTS = [
    LOGIN_STATEMENT,
    {
        "Sid": "PullPushRakeApp",
        "Effect": "Allow",
        "Action": PULL_PUSH_ACTIONS,
        "Resource": [REPO_ARN],
    },
]
# What the stack file exports.
VENDOR_EXPORTS = {
    "account_id": ACCOUNT,
    "region": "us-east-2",
    "rake_app_repository_url": f"{REGISTRY}/rake-app",
    "rake_app_repository_arn": REPO_ARN,
    "rake_app_image_uri": image_uri(REGISTRY, "rake-app", "services/rake_app"),
    "rake_app_pull_accounts": ["999988887777"],
    "developer_group_name": "Development",
}
# A PGP public key as `pgpKey` holds it (base64, one line).
PGP_KEY = "mQINBGa" + "A" * 80


def repository_policy(run: StackRun) -> dict[str, Any]:
    policy: dict[str, Any] = json.loads(
        only(run.resources, "aws:ecr/repositoryPolicy:RepositoryPolicy").inputs["policy"]
    )
    return policy


def group_policy(run: StackRun) -> dict[str, Any]:
    policy: dict[str, Any] = json.loads(
        only(run.resources, "aws:iam/groupPolicy:GroupPolicy").inputs["policy"]
    )
    return policy


def test_vendor_repository_policy_grants_the_customer_account_pull_only(
    vendor_run: StackRun,
) -> None:
    assert repository_policy(vendor_run) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "CrossAccountPull",
                "Effect": "Allow",
                "Principal": {"AWS": ["arn:aws:iam::999988887777:root"]},
                "Action": PULL_AND_DESCRIBE_ACTIONS,
            }
        ],
    }


def test_vendor_repository_policy_is_attached_to_the_rake_app_repository(
    vendor_run: StackRun,
) -> None:
    policy = only(vendor_run.resources, "aws:ecr/repositoryPolicy:RepositoryPolicy")
    assert (policy.name, policy.inputs["repository"]) == ("rake-app-policy", "rake-app")


def test_vendor_repository_is_immutable_scanned_encrypted_and_force_deleted(
    vendor_run: StackRun,
) -> None:
    repo = only(vendor_run.resources, "aws:ecr/repository:Repository")
    assert (repo.name, repo.inputs) == (
        "rake-app-repo",
        {
            "name": "rake-app",
            "imageTagMutability": "IMMUTABLE",
            "imageScanningConfiguration": {"scanOnPush": True},
            "encryptionConfigurations": [{"encryptionType": "AES256"}],
            "forceDelete": True,
        },
    )


def test_vendor_lifecycle_expires_untagged_and_keeps_ten_releases(vendor_run: StackRun) -> None:
    lifecycle = only(vendor_run.resources, "aws:ecr/lifecyclePolicy:LifecyclePolicy")
    assert lifecycle.inputs["repository"] == "rake-app"
    # The builder's exact JSON is asserted in test_iam.py; here: wired with the config's N.
    assert json.loads(lifecycle.inputs["policy"]) == lifecycle_policy(keep_release_images=10)


def test_vendor_image_is_built_for_amd64_from_its_own_context_and_pushed_with_a_secret_login(
    vendor_run: StackRun,
) -> None:
    image = only(vendor_run.resources, "docker:index/image:Image")
    assert image.inputs["imageName"] == f"{REGISTRY}/rake-app:{image_tag('services/rake_app')}"
    assert image.inputs["build"] == build_args("rake-app", "services/rake_app")
    assert unwrap_secret(image.inputs["registry"]) == {
        "server": REGISTRY,
        "username": "AWS",
        "password": "fake-ecr-password",
    }


def test_vendor_group_policy_allows_push_pull_on_the_repo_and_login_on_star_only(
    vendor_run: StackRun,
) -> None:
    policy = only(vendor_run.resources, "aws:iam/groupPolicy:GroupPolicy")
    assert policy.inputs["group"] == "Development"
    assert group_policy(vendor_run) == {"Version": "2012-10-17", "Statement": DEVELOPER_STATEMENTS}


def test_vendor_group_members_may_change_their_password(vendor_run: StackRun) -> None:
    attachment = only(vendor_run.resources, "aws:iam/groupPolicyAttachment:GroupPolicyAttachment")
    assert attachment.inputs == {
        "group": "Development",
        "policyArn": "arn:aws:iam::aws:policy/IAMUserChangePassword",
    }


def test_vendor_developer_gets_no_password_or_access_key_without_a_pgp_key(
    vendor_run: StackRun,
) -> None:
    user = only(vendor_run.resources, "aws:iam/user:User")
    membership = only(vendor_run.resources, "aws:iam/userGroupMembership:UserGroupMembership")
    assert user.inputs == {"name": "Developer-01", "forceDestroy": True}
    assert membership.inputs == {"user": "Developer-01", "groups": ["Development"]}
    assert all_of(vendor_run.resources, "aws:iam/userLoginProfile:UserLoginProfile") == []
    assert all_of(vendor_run.resources, "aws:iam/accessKey:AccessKey") == []


def test_vendor_exports_flat_outputs_and_nothing_secret(vendor_run: StackRun) -> None:
    assert vendor_run.exports == VENDOR_EXPORTS
    assert vendor_run.secret_exports == set()
    assert re.fullmatch(r".+@sha256:[0-9a-f]{64}", vendor_run.exports["rake_app_image_uri"])


def test_vendor_aws_provider_is_pinned_to_the_account_region_and_tagged(
    vendor_run: StackRun,
) -> None:
    provider = only(vendor_run.resources, "pulumi:providers:aws")
    assert provider.name == "aws"
    assert provider.inputs["region"] == "us-east-2"
    assert json.loads(provider.inputs["allowedAccountIds"]) == [ACCOUNT]
    assert json.loads(provider.inputs["defaultTags"]) == {
        "tags": {"project": "ecr-cross-account", "stack": "vendor"}
    }
    assert "assumeRoles" not in provider.inputs


def test_vendor_docker_provider_holds_no_registry_login(vendor_run: StackRun) -> None:
    # The images carry the login (asserted above); a token in the provider's config would
    # change every run and show the provider as updated in every preview.
    provider = only(vendor_run.resources, "pulumi:providers:docker")
    assert "registryAuth" not in provider.inputs


def test_vendor_every_aws_and_docker_resource_uses_the_explicit_provider(
    vendor_run: StackRun,
) -> None:
    aws_urn = only(vendor_run.resources, "pulumi:providers:aws").urn
    docker_urn = only(vendor_run.resources, "pulumi:providers:docker").urn
    expected = {"aws": aws_urn, "docker": docker_urn}
    wrong = [
        (r.urn, r.provider_urn)
        for r in vendor_run.resources
        if r.custom
        and r.type.split(":")[0] in expected
        and r.provider_urn != expected[r.type.split(":")[0]]
    ]
    assert wrong == []
    assert [(token, provider.rsplit("::", 1)[0]) for token, _, provider in vendor_run.calls] == [
        ("aws:ecr/getAuthorizationToken:getAuthorizationToken", aws_urn)
    ]


def test_vendor_components_use_the_project_type_tokens(vendor_run: StackRun) -> None:
    components = sorted((r.type, r.name) for r in vendor_run.resources if not r.custom)
    assert components == [
        ("ecr-cross-account:components:DevUserGroup", "developers"),
        ("ecr-cross-account:components:SharedRepo", "rake-app"),
    ]


def test_vendor_org_id_variant_adds_an_org_conditioned_pull() -> None:
    repositories = {
        "rake-app": {
            **RAKE_APP_SOURCE,
            "pullAccounts": ["999988887777"],
            "pullOrgId": "o-abc123def4",
        }
    }
    run = run_stack("vendor", overrides={"repositories": repositories})
    # The builder's exact JSON for this combination is asserted in test_iam.py; here: wired.
    assert repository_policy(run) == repository_pull_policy(
        pull_accounts=["999988887777"], pull_org_id="o-abc123def4"
    )
    # Who may pull, for the customer's check at preview (components/vendor.py).
    assert (run.exports["rake_app_pull_accounts"], run.exports["rake_app_pull_org_id"]) == (
        ["999988887777"],
        "o-abc123def4",
    )


def test_vendor_without_consumers_creates_a_private_repository() -> None:
    run = run_stack("vendor", overrides={"repositories": {"rake-app": RAKE_APP_SOURCE}})
    assert all_of(run.resources, "aws:ecr/repositoryPolicy:RepositoryPolicy") == []
    assert len(all_of(run.resources, "aws:ecr/repository:Repository")) == 1


def test_vendor_kms_variant_encrypts_with_the_key_and_grants_no_key_permission() -> None:
    # ECR pushes and pulls with its own grants on the key (SharedRepo's note): developers and
    # consumers get no kms:Decrypt, and the vendor exports no key for the customer to grant.
    key = f"arn:aws:kms:us-east-2:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    repositories = {"rake-app": {**RAKE_APP_SOURCE, "kmsKeyArn": key}}
    run = run_stack("vendor", overrides={"repositories": repositories})
    repo = only(run.resources, "aws:ecr/repository:Repository")
    assert repo.inputs["encryptionConfigurations"] == [{"encryptionType": "KMS", "kmsKey": key}]
    assert group_policy(run) == {"Version": "2012-10-17", "Statement": DEVELOPER_STATEMENTS}
    assert [name for name in run.exports if "kms" in name] == []


def test_vendor_pgp_key_variant_exports_only_the_encrypted_password() -> None:
    run = run_stack("vendor", overrides={"pgpKey": PGP_KEY})
    profile = only(run.resources, "aws:iam/userLoginProfile:UserLoginProfile")
    assert profile.inputs == {
        "user": "Developer-01",
        "pgpKey": PGP_KEY,
        "passwordLength": 24,
        "passwordResetRequired": True,
    }
    assert run.exports == {
        **VENDOR_EXPORTS,
        "developer_encrypted_passwords": {"Developer-01": "pgp-encrypted-password-of-Developer-01"},
    }


def test_vendor_access_keys_variant_exports_the_secret_key_only_encrypted() -> None:
    run = run_stack("vendor", overrides={"createAccessKeys": True, "pgpKey": PGP_KEY})
    key = only(run.resources, "aws:iam/accessKey:AccessKey")
    assert key.inputs == {"user": "Developer-01", "pgpKey": PGP_KEY}
    assert run.exports == {
        **VENDOR_EXPORTS,
        "developer_encrypted_passwords": {"Developer-01": "pgp-encrypted-password-of-Developer-01"},
        "developer_access_key_ids": {"Developer-01": "developers-key-Developer-01-id"},
        "developer_encrypted_secret_access_keys": {
            "Developer-01": "pgp-encrypted-secret-of-Developer-01"
        },
    }
    assert run.secret_exports == set()


def test_vendor_assume_role_variant_configures_the_provider() -> None:
    role = f"arn:aws:iam::{ACCOUNT}:role/deployer"
    run = run_stack(
        "vendor",
        overrides={"assumeRole": {"roleArn": role, "sessionName": "pulumi", "externalId": "ext-1"}},
    )
    provider = only(run.resources, "pulumi:providers:aws")
    assert json.loads(provider.inputs["assumeRoles"]) == [
        {"roleArn": role, "sessionName": "pulumi", "externalId": "ext-1"}
    ]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        pytest.param(
            {"accountId": "11112222333"},
            "ecr-cross-account:accountId: expected a 12-digit AWS account ID (in quotes), "
            "got '11112222333'.",
            id="11-digit-account",
        ),
        pytest.param(
            {"repositories": {"rake-app": {**RAKE_APP_SOURCE, "pullOrgId": "abc123def456"}}},
            "ecr-cross-account:repositories.rake-app.pullOrgId: expected an AWS Organizations "
            "ID such as 'o-a1b2c3d4e5', got 'abc123def456'.",
            id="org-id-without-o",
        ),
        pytest.param(
            {"developers": {"group": "Development", "members": ["Developer-01"]}},
            "ecr-cross-account:developers.members: expected one of `group`, `users` "
            "(unknown key), got 'members'.",
            id="unknown-key",
        ),
    ],
)
def test_vendor_bad_config_fails_naming_the_key(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError) as exc_info:
        run_stack("vendor", overrides=overrides)
    assert str(exc_info.value) == message


def test_vendor_first_preview_registers_everything_and_exports_only_what_it_knows(
    vendor_run: StackRun,
) -> None:
    # A first preview knows no repository URL, ARN or digest (harness: `unknowns`).
    run = run_stack("vendor", preview=True)

    assert run.registered() == vendor_run.registered()
    assert (run.exports, run.unknown_exports, run.secret_exports) == (
        {
            "account_id": ACCOUNT,
            "region": "us-east-2",
            "rake_app_pull_accounts": ["999988887777"],
            "developer_group_name": "Development",
        },
        {"rake_app_image_uri", "rake_app_repository_arn", "rake_app_repository_url"},
        set(),
    )
