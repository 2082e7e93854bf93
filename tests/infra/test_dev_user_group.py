"""DevUserGroup in isolation: one policy over every repository, users, secret credentials."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest

from components.dev_user_group import DevUserGroup, DevUserGroupArgs
from components.shared_repo import RepoRef
from tests.infra.conftest import LOGIN_STATEMENT, StackRun, all_of, only, run_program
from tests.infra.conftest import PULL_PUSH_ACTIONS as PULL_PUSH

ARN_A = "arn:aws:ecr:us-west-2:999988887777:repository/nlp-client"
ARN_B = "arn:aws:ecr:us-west-2:999988887777:repository/prose-app"


def build_group(**changes: Any) -> StackRun:
    """Run a program holding one DevUserGroup over two repositories, with changed args."""

    def program() -> None:
        values: dict[str, Any] = {
            "group_name": "Development",
            "repositories": [RepoRef.from_arn(ARN_A), RepoRef.from_arn(ARN_B)],
            "user_names": ["alice", "bob"],
            **changes,
        }
        group = DevUserGroup("developers", DevUserGroupArgs(**values))
        pulumi.export("passwords", group.passwords)
        pulumi.export("access_key_ids", group.access_key_ids)
        pulumi.export("secret_access_keys", group.secret_access_keys)

    return run_program(program)


def test_dev_user_group_policy_covers_every_repository_and_logs_in_once() -> None:
    run = build_group()
    assert json.loads(only(run.resources, "aws:iam/groupPolicy:GroupPolicy").inputs["policy"]) == {
        "Version": "2012-10-17",
        "Statement": [
            LOGIN_STATEMENT,
            {
                "Sid": "PullPushNlpClient",
                "Effect": "Allow",
                "Action": PULL_PUSH,
                "Resource": [ARN_A],
            },
            {
                "Sid": "PullPushProseApp",
                "Effect": "Allow",
                "Action": PULL_PUSH,
                "Resource": [ARN_B],
            },
        ],
    }


def test_dev_user_group_gives_each_user_membership_and_a_reset_required_login() -> None:
    run = build_group()
    memberships = all_of(run.resources, "aws:iam/userGroupMembership:UserGroupMembership")
    profiles = all_of(run.resources, "aws:iam/userLoginProfile:UserLoginProfile")
    # Registrations run concurrently: compare in name order.
    assert sorted((m.name, m.inputs["user"], m.inputs["groups"]) for m in memberships) == [
        ("developers-membership-alice", "alice", ["Development"]),
        ("developers-membership-bob", "bob", ["Development"]),
    ]
    assert sorted((p.inputs["user"], p.inputs["passwordResetRequired"]) for p in profiles) == [
        ("alice", True),
        ("bob", True),
    ]


def test_dev_user_group_passwords_are_secret_and_keys_absent_by_default() -> None:
    run = build_group()
    assert run.exports == {
        "passwords": {
            "alice": "generated-password-for-alice",
            "bob": "generated-password-for-bob",
        },
        "access_key_ids": {},
        "secret_access_keys": {},
    }
    assert run.secret_exports == {"passwords", "secret_access_keys"}
    assert all_of(run.resources, "aws:iam/accessKey:AccessKey") == []


def test_dev_user_group_access_keys_are_opt_in_with_secret_secrets() -> None:
    run = build_group(create_access_keys=True, user_names=["alice"])
    assert only(run.resources, "aws:iam/accessKey:AccessKey").inputs == {"user": "alice"}
    assert run.exports == {
        "passwords": {"alice": "generated-password-for-alice"},
        "access_key_ids": {"alice": "developers-key-alice-id"},
        "secret_access_keys": {"alice": "secret-key-of-alice"},
    }
    assert run.secret_exports == {"passwords", "secret_access_keys"}


def test_dev_user_group_children_are_parented_to_the_component() -> None:
    run = build_group(user_names=["alice"])
    component = only(run.resources, "ecr-cross-account:components:DevUserGroup")
    assert sorted(r.name for r in run.resources if r.parent == component.urn) == [
        "developers-change-password",
        "developers-group",
        "developers-login-alice",
        "developers-membership-alice",
        "developers-policy",
        "developers-user-alice",
    ]


def test_dev_user_group_rejects_a_short_password_length() -> None:
    # Names are validated by the settings (test_settings.py); the length is the component's own.
    with pytest.raises(ValueError) as exc_info:
        build_group(password_length=12)
    assert str(exc_info.value) == (
        "DevUserGroupArgs.password_length: expected 20 to 128 characters, got 12."
    )
