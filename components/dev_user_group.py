"""DevUserGroup: the developers who may push to this stack's repositories, and nothing else."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.config_errors import format_problem
from components.iam import merged_policy_document
from components.shared_repo import Grants

TYPE = "ecr-cross-account:components:DevUserGroup"

# Lets a user with a reset-required password set a new one at first sign-in.
# https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_passwords_enable-user-change.html
CHANGE_PASSWORD_POLICY_ARN = "arn:aws:iam::aws:policy/IAMUserChangePassword"

# Generated console passwords are at least this long (the account password policy may ask more).
MIN_PASSWORD_LENGTH = 20


@dataclass(frozen=True, kw_only=True)
class DevUserGroupArgs:
    """The group, its members, and the repositories they work on."""

    group_name: str
    # The stack's repositories; members get pull and push on exactly these.
    repositories: Sequence[Grants]
    # Default: an empty group.
    user_names: Sequence[str] = ()
    # Default: console passwords only, no long-lived access keys.
    create_access_keys: bool = False
    # Default: 24-character generated passwords.
    password_length: int = 24


def _validate(args: DevUserGroupArgs) -> None:
    # Names come validated from the stack's settings (components/settings.py); this is the
    # component's own knob.
    if not MIN_PASSWORD_LENGTH <= args.password_length <= 128:
        raise ValueError(
            format_problem(
                "DevUserGroupArgs.password_length",
                f"{MIN_PASSWORD_LENGTH} to 128 characters",
                args.password_length,
            )
        )


class DevUserGroup(pulumi.ComponentResource):
    """An IAM group allowed to push and pull this stack's repositories, and its users.

    Each user gets a generated console password that must be reset at first sign-in; passwords
    and (opt-in) secret access keys exist only as secret outputs.
    """

    group: aws.iam.Group
    policy: aws.iam.GroupPolicy
    change_password: aws.iam.GroupPolicyAttachment
    users: dict[str, aws.iam.User]
    memberships: dict[str, aws.iam.UserGroupMembership]
    login_profiles: dict[str, aws.iam.UserLoginProfile]
    access_keys: dict[str, aws.iam.AccessKey]
    group_name: pulumi.Output[str]
    # user name -> generated password (secret).
    passwords: pulumi.Output[dict[str, str]]
    # user name -> access key ID, and user name -> secret access key (secret); empty by default.
    access_key_ids: pulumi.Output[dict[str, str]]
    secret_access_keys: pulumi.Output[dict[str, str]]

    def __init__(
        self, name: str, args: DevUserGroupArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(TYPE, name, None, opts)
        _validate(args)
        child = pulumi.ResourceOptions(parent=self)
        self.group = aws.iam.Group(f"{name}-group", name=args.group_name, opts=child)
        self.group_name = self.group.name
        grants = [repository.grant_pull_push() for repository in args.repositories]
        self.policy = aws.iam.GroupPolicy(
            f"{name}-policy",
            group=self.group.name,
            policy=pulumi.Output.all(*grants).apply(
                lambda groups: json.dumps(merged_policy_document(groups))
            ),
            opts=child,
        )
        self.change_password = aws.iam.GroupPolicyAttachment(
            f"{name}-change-password",
            group=self.group.name,
            policy_arn=CHANGE_PASSWORD_POLICY_ARN,
            opts=child,
        )
        self.users = {}
        self.memberships = {}
        self.login_profiles = {}
        self.access_keys = {}
        for user_name in args.user_names:
            user = aws.iam.User(f"{name}-user-{user_name}", name=user_name, opts=child)
            self.users[user_name] = user
            # Non-exclusive membership: other tooling may add these users to other groups.
            self.memberships[user_name] = aws.iam.UserGroupMembership(
                f"{name}-membership-{user_name}",
                user=user.name,
                groups=[self.group.name],
                opts=child,
            )
            self.login_profiles[user_name] = aws.iam.UserLoginProfile(
                f"{name}-login-{user_name}",
                user=user.name,
                password_length=args.password_length,
                password_reset_required=True,
                opts=child,
            )
            if args.create_access_keys:
                self.access_keys[user_name] = aws.iam.AccessKey(
                    f"{name}-key-{user_name}", user=user.name, opts=child
                )
        self.passwords = _secret_map(
            {user: profile.password for user, profile in self.login_profiles.items()}
        )
        self.access_key_ids = _output_map({user: key.id for user, key in self.access_keys.items()})
        self.secret_access_keys = _secret_map(
            {user: key.secret for user, key in self.access_keys.items()}
        )
        self.register_outputs(
            {
                "group_name": self.group_name,
                "passwords": self.passwords,
                "access_key_ids": self.access_key_ids,
                "secret_access_keys": self.secret_access_keys,
            }
        )


def _output_map(values: dict[str, pulumi.Output[str]]) -> pulumi.Output[dict[str, str]]:
    """One Output of a map of Outputs (an empty map stays `{}`)."""
    names = list(values)
    return pulumi.Output.all(*values.values()).apply(
        lambda resolved: dict(zip(names, resolved, strict=True))
    )


def _secret_map(values: dict[str, pulumi.Output[str]]) -> pulumi.Output[dict[str, str]]:
    """A map of generated credentials, marked secret whatever the provider reports."""
    return pulumi.Output.secret(_output_map(values))
