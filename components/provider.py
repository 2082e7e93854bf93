"""The stack's explicit AWS and Docker providers.

Pulumi.yaml disables the default providers, so a resource created without these fails at once
instead of deploying with whatever credentials happen to be ambient. Components receive
`Providers.opts()` (`ResourceOptions(providers=...)`) and their children inherit both providers.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_docker as docker


@dataclass(frozen=True, kw_only=True)
class RegistryLogin:
    """Credentials for `docker push` to this stack's ECR registry (password always secret)."""

    server: pulumi.Output[str]
    username: pulumi.Output[str]
    password: pulumi.Output[str]


@dataclass(frozen=True, kw_only=True)
class Providers:
    """The stack's providers, and the registry login its images push with."""

    aws: aws.Provider
    docker: docker.Provider
    registry: RegistryLogin

    def opts(self) -> pulumi.ResourceOptions:
        """Options for a component: its children inherit both providers."""
        return pulumi.ResourceOptions(providers=[self.aws, self.docker])


def aws_provider(
    *,
    region: str,
    account_id: str,
    assume_role: aws.ProviderAssumeRoleArgs | None = None,
    name: str = "aws",
) -> aws.Provider:
    """An AWS provider that refuses any account but the stack's and tags everything it creates.

    Default: the ambient credentials' own identity (no role to assume).
    """
    return aws.Provider(
        name,
        region=region,
        allowed_account_ids=[account_id],
        assume_roles=[assume_role] if assume_role else None,
        default_tags=aws.ProviderDefaultTagsArgs(
            tags={"project": pulumi.get_project(), "stack": pulumi.get_stack()}
        ),
    )


def registry_login(account_id: str, provider: aws.Provider) -> RegistryLogin:
    """A short-lived ECR login (12 h token) for the stack's own registry."""
    token = aws.ecr.get_authorization_token_output(
        registry_id=account_id,
        opts=pulumi.InvokeOutputOptions(provider=provider),
    )
    return RegistryLogin(
        # "https://<account>.dkr.ecr.<region>.amazonaws.com" -> the registry host docker expects.
        server=token.proxy_endpoint.apply(lambda url: url.removeprefix("https://")),
        username=token.user_name,
        password=pulumi.Output.secret(token.password),
    )


def stack_providers(
    *, region: str, account_id: str, assume_role: aws.ProviderAssumeRoleArgs | None = None
) -> Providers:
    """The AWS provider, the ECR login, and the Docker provider (the local engine)."""
    aws_ = aws_provider(region=region, account_id=account_id, assume_role=assume_role)
    # The login goes on each image (`Image.registry`), not on the Docker provider: a fresh ECR
    # token every run would change the provider's config, an update in every preview.
    docker_ = docker.Provider("docker")
    return Providers(aws=aws_, docker=docker_, registry=registry_login(account_id, aws_))
