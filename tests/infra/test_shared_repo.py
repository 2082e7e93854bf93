"""SharedRepo and RepoRef: grants, validation, and the component in isolation."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest

from components.iam import lifecycle_policy
from components.provider import RegistryLogin
from components.shared_repo import RepoRef, SharedRepo, SharedRepoArgs
from tests.infra.harness import LOGIN_STATEMENT, StackRun, all_of, only, resolve, run_program
from tests.infra.image_helpers import image_tag

VENDOR_ARN = "arn:aws:ecr:us-east-2:111122223333:repository/rake-app"
KEY_ARN = "arn:aws:kms:us-east-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
PULL = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
PULL_STATEMENT = {"Sid": "PullRakeApp", "Effect": "Allow", "Action": PULL, "Resource": [VENDOR_ARN]}
# What a pull grant on the vendor's rake-app returns, whole.
PULL_GRANT = [LOGIN_STATEMENT, PULL_STATEMENT]


def build_repo(**changes: Any) -> StackRun:
    """Run a program holding one SharedRepo (the vendor's rake-app) with changed args."""
    values: dict[str, Any] = {
        "repository_name": "rake-app",
        "source": "services/rake_app",
        "image_tag": "2.0.0",
        "pull_accounts": ("999988887777",),
        **changes,
    }

    def program() -> None:
        login = RegistryLogin(
            server=pulumi.Output.from_input("registry.example"),
            username=pulumi.Output.from_input("AWS"),
            password=pulumi.Output.secret("pw"),
        )
        repo = SharedRepo("rake-app", SharedRepoArgs(registry=login, **values))
        pulumi.export("pull", repo.grant_pull())

    return run_program(program)


def test_repo_ref_grant_pull_yields_login_and_pull_on_the_exact_arn() -> None:
    assert resolve(RepoRef.from_arn(VENDOR_ARN).grant_pull()) == PULL_GRANT


def test_repo_ref_grant_push_is_the_documented_push_policy() -> None:
    # https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-push-iam.html
    assert resolve(RepoRef.from_arn(VENDOR_ARN).grant_push()) == [
        LOGIN_STATEMENT,
        {
            "Sid": "PushRakeApp",
            "Effect": "Allow",
            "Action": [
                "ecr:BatchCheckLayerAvailability",
                "ecr:BatchGetImage",
                "ecr:CompleteLayerUpload",
                "ecr:InitiateLayerUpload",
                "ecr:PutImage",
                "ecr:UploadLayerPart",
            ],
            "Resource": [VENDOR_ARN],
        },
    ]


def test_kms_encrypted_repo_grants_no_key_permission() -> None:
    # ECR decrypts with its own grant on the key, never the puller's permission:
    # https://docs.aws.amazon.com/AmazonECR/latest/userguide/encryption-at-rest.html
    run = build_repo(kms_key_arn=KEY_ARN)

    repository = only(run.resources, "aws:ecr/repository:Repository")
    assert repository.inputs["encryptionConfigurations"] == [
        {"encryptionType": "KMS", "kmsKey": KEY_ARN}
    ]
    assert run.exports["pull"] == PULL_GRANT


def test_repo_ref_from_arn_accepts_an_unresolved_output() -> None:
    ref = RepoRef.from_arn(pulumi.Output.from_input(VENDOR_ARN))
    assert resolve(ref.grant_pull()) == PULL_GRANT


def test_repo_ref_from_arn_rejects_a_non_ecr_arn() -> None:
    with pytest.raises(ValueError) as exc_info:
        RepoRef.from_arn("arn:aws:s3:::bucket")
    assert str(exc_info.value) == (
        "RepoRef.from_arn(arn): expected an ECR repository ARN, got 'arn:aws:s3:::bucket'."
    )


def test_shared_repo_grant_pull_names_its_own_repository() -> None:
    run = build_repo()
    assert run.exports["pull"] == PULL_GRANT


def test_shared_repo_children_use_the_role_names_and_parent() -> None:
    run = build_repo()
    component = only(run.resources, "ecr-cross-account:components:SharedRepo")
    children = [(r.type, r.name) for r in run.resources if r.parent == component.urn]
    assert sorted(children) == [
        ("aws:ecr/lifecyclePolicy:LifecyclePolicy", "rake-app-lifecycle"),
        ("aws:ecr/repository:Repository", "rake-app-repo"),
        ("aws:ecr/repositoryPolicy:RepositoryPolicy", "rake-app-policy"),
        ("docker:index/image:Image", "rake-app-image"),
    ]


def test_shared_repo_keep_release_images_sets_the_lifecycle_count() -> None:
    run = build_repo(keep_release_images=3)
    lifecycle = only(run.resources, "aws:ecr/lifecyclePolicy:LifecyclePolicy")
    # The builder's exact JSON is asserted in test_iam.py; here: wired whole with the args' N.
    assert json.loads(lifecycle.inputs["policy"]) == lifecycle_policy(keep_release_images=3)


def test_shared_repo_image_tag_comes_from_args() -> None:
    run = build_repo()
    image = only(run.resources, "docker:index/image:Image")
    repository = "111122223333.dkr.ecr.us-east-2.amazonaws.com/rake-app"
    assert image.inputs["imageName"] == f"{repository}:{image_tag('services/rake_app', '2.0.0')}"


def test_shared_repo_without_consumers_has_no_repository_policy() -> None:
    run = build_repo(pull_accounts=())
    assert all_of(run.resources, "aws:ecr/repositoryPolicy:RepositoryPolicy") == []
