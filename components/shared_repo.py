"""SharedRepo: one ECR repository, its image, and who may pull it; RepoRef: someone else's repo.

Access is handed out only through the grant methods: `grant_pull()`, `grant_push()` and
`grant_pull_push()` return the identity-policy statements a grantee attaches to its own role or
group. The resource-policy half (consumer accounts and/or an organization, pull only) is fixed by
`SharedRepoArgs` when the repository is created.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_aws as aws
import pulumi_docker as docker

from components.aws_values import ECR_REPOSITORY_ARN
from components.config_errors import format_problem
from components.iam import (
    DESCRIBE_ACTIONS,
    PULL_ACTIONS,
    PUSH_ACTIONS,
    PUSH_GRANT_ACTIONS,
    PolicyStatement,
    allow,
    auth_token_statement,
    lifecycle_policy,
    policy_document,
    repository_pull_policy,
    statement_id,
)
from components.image_inputs import assemble
from components.mirror import upstream_grant_statement
from components.provider import RegistryLogin

TYPE = "ecr-cross-account:components:SharedRepo"

# The image platform; the Fargate task's runtimePlatform (LINUX/X86_64) must match it.
IMAGE_PLATFORM = "linux/amd64"

# A repository encrypted with a KMS key (`kmsKeyArn`) needs no key permission in any grant: at
# creation ECR gives itself grants on the key, and on push and pull ECR, not the caller, asks KMS
# for the data key (GenerateDataKey, Decrypt) and decrypts the layers before they are pulled. So a
# consumer in another account needs neither kms:Decrypt nor a statement in the key's policy;
# only the repository's creator needs kms:CreateGrant and kms:DescribeKey (docs/ci.md).
# https://docs.aws.amazon.com/AmazonECR/latest/userguide/encryption-at-rest.html


class Grants:
    """The grant methods shared by a repository of this stack and a reference to another's.

    Subclasses set `repository_arn`. Each grant returns the statements to put in
    the grantee's identity policy, for example `grant_pull()` on rake-app resolves to
    `[{"Sid": "EcrLogin", ..., "Resource": "*"},
    {"Sid": "PullRakeApp", "Effect": "Allow", "Action": [the three pull actions],
    "Resource": ["arn:aws:ecr:us-east-2:111122223333:repository/rake-app"]}]`;
    merge several grants with `components.iam.merged_policy_document`.
    """

    repository_arn: pulumi.Output[str]

    def grant_pull(self) -> pulumi.Output[list[PolicyStatement]]:
        """Statements that let the grantee pull this repository's images."""
        return self._grant("Pull", PULL_ACTIONS)

    def grant_push(self) -> pulumi.Output[list[PolicyStatement]]:
        """Statements that let the grantee push images (and nothing it does not need to push)."""
        return self._grant("Push", PUSH_GRANT_ACTIONS)

    def grant_pull_push(self) -> pulumi.Output[list[PolicyStatement]]:
        """Statements for a developer: pull, push and describe this repository."""
        return self._grant("PullPush", (*PULL_ACTIONS, *PUSH_ACTIONS, *DESCRIBE_ACTIONS))

    def _grant(self, verb: str, actions: Sequence[str]) -> pulumi.Output[list[PolicyStatement]]:
        def statements(arn: str) -> list[PolicyStatement]:
            name = arn.split(":repository/", 1)[-1]
            # `docker login` needs ecr:GetAuthorizationToken, which is registry-level and has no
            # resource-level permissions: it is only ever granted here, on "*", never in a
            # repository policy (where it has no effect). No KMS statement, even for a
            # KMS-encrypted repository: see the note on encryption above.
            return [auth_token_statement(), allow(actions, [arn], sid=statement_id(verb, name))]

        return self.repository_arn.apply(statements)


@dataclass(frozen=True, kw_only=True)
class RepoRef(Grants):
    """A repository owned by another stack or account, known only by its ARN.

    Grants yield only the identity half: the owner's repository policy must already allow this
    account (the vendor's `pullAccounts` / `pullOrgId`).
    """

    repository_arn: pulumi.Output[str]

    @classmethod
    def from_arn(cls, arn: pulumi.Input[str]) -> RepoRef:
        """Refer to `arn:aws:ecr:<region>:<account>:repository/<name>`."""
        if isinstance(arn, str) and not ECR_REPOSITORY_ARN.fullmatch(arn):
            raise ValueError(format_problem("RepoRef.from_arn(arn)", "an ECR repository ARN", arn))
        return cls(repository_arn=pulumi.Output.from_input(arn))


@dataclass(frozen=True, kw_only=True)
class SharedRepoArgs:
    """What SharedRepo builds: the repository, its image, and its consumers.

    Not re-checked here: the stack's settings (components/settings.py) validate every value.
    """

    # ECR repository name, e.g. "rake-app".
    repository_name: str
    # Dockerfile directory relative to the project, e.g. "services/rake_app"; its COPY paths are
    # relative to its parent, so the image can copy shared code (services/common).
    source: str
    # The release prefix of the tag pushed; the tag is `<image_tag>-<12 hex of the image's
    # inputs>` (components/image_inputs.py), so new content gets a new (immutable) tag.
    image_tag: str
    # Login for `docker push` to this stack's registry.
    registry: RegistryLogin
    # Default: no consumer account (a private repository).
    pull_accounts: Sequence[str] = ()
    # Default: no organization-wide pull.
    pull_org_id: str | None = None
    # Default: no account may copy the images through an ECR pull-through cache (the upstream
    # grant AWS documents for that, components/mirror.py).
    cache_accounts: Sequence[str] = ()
    # Default: AES256 with an AWS-owned key.
    kms_key_arn: str | None = None
    # Default: keep the newest 10 tagged images.
    keep_release_images: int = 10
    # Default: `pulumi destroy` refuses to delete a repository that still holds images.
    force_delete: bool = False


class SharedRepo(pulumi.ComponentResource, Grants):
    """An ECR repository with its pushed image; consumer accounts may pull and nothing else."""

    repository: aws.ecr.Repository
    lifecycle: aws.ecr.LifecyclePolicy
    policy: aws.ecr.RepositoryPolicy | None
    image: docker.Image
    # The tag pushed: `<image_tag>-<12 hex of the image's inputs>`.
    image_tag: str
    repository_url: pulumi.Output[str]
    registry_id: pulumi.Output[str]
    # The pushed image pinned by digest: <repository_url>@sha256:<64 hex>.
    image_uri: pulumi.Output[str]

    def __init__(
        self, name: str, args: SharedRepoArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.repository = aws.ecr.Repository(
            f"{name}-repo",
            name=args.repository_name,
            # A tag names one image forever: consumers pin digests, releases never move.
            image_tag_mutability="IMMUTABLE",
            image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(
                scan_on_push=True
            ),
            encryption_configurations=[
                aws.ecr.RepositoryEncryptionConfigurationArgs(
                    encryption_type="KMS", kms_key=args.kms_key_arn
                )
                if args.kms_key_arn
                else aws.ecr.RepositoryEncryptionConfigurationArgs(encryption_type="AES256")
            ],
            force_delete=args.force_delete,
            opts=child,
        )
        self.repository_arn = self.repository.arn
        self.repository_url = self.repository.repository_url
        self.registry_id = self.repository.registry_id
        self.lifecycle = aws.ecr.LifecyclePolicy(
            f"{name}-lifecycle",
            repository=self.repository.name,
            policy=json.dumps(lifecycle_policy(keep_release_images=args.keep_release_images)),
            opts=child,
        )
        pull_policy = repository_pull_policy(
            pull_accounts=args.pull_accounts, pull_org_id=args.pull_org_id
        )
        statements = [
            *(pull_policy["Statement"] if pull_policy else []),
            *([upstream_grant_statement(args.cache_accounts)] if args.cache_accounts else []),
        ]
        self.policy = (
            aws.ecr.RepositoryPolicy(
                f"{name}-policy",
                repository=self.repository.name,
                policy=json.dumps(policy_document(statements)),
                opts=child,
            )
            if statements
            else None
        )
        # Relative paths: the provider resolves them from the project directory (Pulumi's working
        # directory), and they are the same on every machine.
        context = assemble(Path.cwd(), args.repository_name, args.source)
        self.image_tag = f"{args.image_tag}-{context.short_digest}"
        self.image = docker.Image(
            f"{name}-image",
            image_name=pulumi.Output.concat(self.repository_url, ":", self.image_tag),
            build=docker.DockerBuildArgs(
                context=str(context.directory),
                dockerfile=str(context.dockerfile),
                platform=IMAGE_PLATFORM,
            ),
            registry=docker.RegistryArgs(
                server=args.registry.server,
                username=args.registry.username,
                password=args.registry.password,
            ),
            opts=child,
        )
        self.image_uri = self.image.repo_digest
        self.register_outputs(
            {
                "repository_url": self.repository_url,
                "repository_arn": self.repository_arn,
                "registry_id": self.registry_id,
                "image_uri": self.image_uri,
            }
        )


def repository_output(repository_name: str, attribute: str) -> str:
    """The stack output a repository's attribute is exported under (and read by the customer).

    `repository_output("rake-app", "image_uri")` -> `"rake_app_image_uri"`.
    """
    return re.sub(r"[^a-z0-9]+", "_", repository_name) + f"_{attribute}"
