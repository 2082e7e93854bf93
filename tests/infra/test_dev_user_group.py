"""DevUserGroup in isolation: one policy over every repository, users, secret credentials."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest

from components.dev_user_group import DevUserGroup, DevUserGroupArgs
from components.shared_repo import RepoRef
from tests.infra.harness import LOGIN_STATEMENT, StackRun, all_of, only, run_program
from tests.infra.harness import PULL_PUSH_ACTIONS as PULL_PUSH

ARN_A = "arn:aws:ecr:us-west-2:999988887777:repository/nlp-client"
ARN_B = "arn:aws:ecr:us-west-2:999988887777:repository/prose-app"
# A PGP public key as the config holds it (base64, one line); never decrypted here.
PGP_KEY = "mQINBGa" + "A" * 80


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
        pulumi.export("encrypted_passwords", group.encrypted_passwords)
        pulumi.export("access_key_ids", group.access_key_ids)
        pulumi.export("encrypted_secret_access_keys", group.encrypted_secret_access_keys)

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
    run = build_group(pgp_key=PGP_KEY)
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


def test_dev_user_group_login_profile_survives_refresh_and_replaces_delete_first() -> None:
    run = build_group(pgp_key=PGP_KEY, user_names=["alice"])
    profile = only(run.resources, "aws:iam/userLoginProfile:UserLoginProfile")
    # After the user sets a password, AWS reports the reset done and no length: a refresh must
    # not turn that into a replacement AWS refuses (one profile per user).
    assert (profile.inputs, profile.ignore_changes, profile.delete_before_replace) == (
        {"user": "alice", "pgpKey": PGP_KEY, "passwordLength": 24, "passwordResetRequired": True},
        ("passwordResetRequired", "passwordLength"),
        True,
    )


def test_dev_user_group_users_are_force_destroyed() -> None:
    # An MFA device or key added by hand would otherwise make `destroy` fail (DeleteConflict).
    run = build_group()
    users = all_of(run.resources, "aws:iam/user:User")
    assert sorted((u.inputs["name"], u.inputs["forceDestroy"]) for u in users) == [
        ("alice", True),
        ("bob", True),
    ]


def test_dev_user_group_without_pgp_key_creates_no_login_and_exports_nothing_usable() -> None:
    run = build_group()
    assert all_of(run.resources, "aws:iam/userLoginProfile:UserLoginProfile") == []
    assert all_of(run.resources, "aws:iam/accessKey:AccessKey") == []
    assert run.exports == {
        "encrypted_passwords": {},
        "access_key_ids": {},
        "encrypted_secret_access_keys": {},
    }


def test_dev_user_group_with_pgp_key_exports_only_encrypted_passwords() -> None:
    run = build_group(pgp_key=PGP_KEY)
    assert run.exports == {
        "encrypted_passwords": {
            "alice": "pgp-encrypted-password-of-alice",
            "bob": "pgp-encrypted-password-of-bob",
        },
        "access_key_ids": {},
        "encrypted_secret_access_keys": {},
    }
    assert "generated-password" not in repr(run.exports)


def test_dev_user_group_access_keys_are_opt_in_and_exported_only_encrypted() -> None:
    run = build_group(create_access_keys=True, pgp_key=PGP_KEY, user_names=["alice"])
    assert only(run.resources, "aws:iam/accessKey:AccessKey").inputs == {
        "user": "alice",
        "pgpKey": PGP_KEY,
    }
    assert run.exports == {
        "encrypted_passwords": {"alice": "pgp-encrypted-password-of-alice"},
        "access_key_ids": {"alice": "developers-key-alice-id"},
        "encrypted_secret_access_keys": {"alice": "pgp-encrypted-secret-of-alice"},
    }


def test_dev_user_group_access_keys_without_pgp_key_are_refused() -> None:
    with pytest.raises(ValueError) as exc_info:
        build_group(create_access_keys=True)
    assert str(exc_info.value) == (
        "DevUserGroupArgs.create_access_keys: expected False without pgp_key "
        "(a secret key leaves AWS only encrypted to it), got True."
    )


def test_dev_user_group_children_are_parented_to_the_component() -> None:
    run = build_group(user_names=["alice"], pgp_key=PGP_KEY)
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
