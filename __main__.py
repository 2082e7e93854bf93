"""The whole program: settings -> components -> exports. What a stack builds is in its config.

Settings become component args in components/wiring.py.
"""

from __future__ import annotations

import pulumi

from components import wiring
from components.dev_user_group import DevUserGroup
from components.fargate_app import FargateApp
from components.registry_mirror import (
    PullThroughCache,
    RegistryScanning,
    ReplicationAcceptance,
    VendorReplication,
)
from components.settings import load_settings
from components.shared_repo import SharedRepo, repository_output

settings = load_settings()
providers = wiring.providers(settings)

repos = {
    name: SharedRepo(
        name,
        wiring.shared_repo_args(name, repo, settings, providers.registry),
        opts=providers.opts(),
    )
    for name, repo in settings.repositories.items()
}
developers = DevUserGroup(
    "developers",
    wiring.dev_user_group_args(settings, list(repos.values())),
    opts=providers.opts(),
)

# ---- Copies of the vendor's image in this region, and registry settings (docs/mirroring.md) ---
# Each only when configured: `vendorMirror`, `acceptReplicationFrom`, `replicateTo`, `scanning`.
vendor_images = wiring.app_vendor_images(settings)
cache_args = wiring.pull_through_cache_args(settings, vendor_images)
cache = PullThroughCache("vendor-cache", cache_args, opts=providers.opts()) if cache_args else None
acceptance_args = wiring.replication_acceptance_args(settings)
acceptance = (
    ReplicationAcceptance("vendor-replicas", acceptance_args, opts=providers.opts())
    if acceptance_args
    else None
)
replication_args = wiring.vendor_replication_args(settings)
if replication_args:
    VendorReplication("replication", replication_args, opts=providers.opts())
scanning_args = wiring.registry_scanning_args(settings)
if scanning_args:
    RegistryScanning("scanning", scanning_args, opts=providers.opts())

# ---- The app (customer stacks: config `app`) ---------------------------------------------------
# rake-app's image comes from the vendor: a StackReference to `vendorStack`, or `vendorImage` +
# `vendorRepositoryArn`, and with `vendorMirror` the same digest from this stack's registry.
# Stacks without `app` (the vendor) build no app.
app = (
    FargateApp(
        "app",
        wiring.fargate_app_args(
            settings,
            repos,
            wiring.mirrored_vendor_images(settings, vendor_images, cache, acceptance),
        ),
        opts=providers.opts(),
    )
    if settings.app
    else None
)

# ---- Exports: flat, snake_case; the customer reads `<repo>_image_uri` and `_repository_arn` ----
pulumi.export("account_id", settings.account_id)
pulumi.export("region", settings.region)
for name, repo in repos.items():
    pulumi.export(repository_output(name, "repository_url"), repo.repository_url)
    pulumi.export(repository_output(name, "repository_arn"), repo.repository_arn)
    pulumi.export(repository_output(name, "image_uri"), repo.image_uri)
    # Who may pull it: the customer checks at preview that it is among them (components/vendor.py).
    shared_with = settings.repositories[name]
    pulumi.export(repository_output(name, "pull_accounts"), list(shared_with.pull_accounts))
    if shared_with.pull_org_id:
        pulumi.export(repository_output(name, "pull_org_id"), shared_with.pull_org_id)
    # Who may copy it into their own region (the customer checks these too, components/vendor.py).
    if shared_with.cache_accounts:
        pulumi.export(repository_output(name, "cache_accounts"), list(shared_with.cache_accounts))
    if shared_with.replicate_to:
        pulumi.export(
            repository_output(name, "replicate_to"),
            [{"account": d.account, "region": d.region} for d in shared_with.replicate_to],
        )
pulumi.export("developer_group_name", developers.group_name)
# No export a stack reader could sign in with (secret outputs are readable by anyone who may
# preview or reference the stack): passwords and secret keys only PGP-encrypted to `pgpKey`.
if settings.pgp_key:
    pulumi.export("developer_encrypted_passwords", developers.encrypted_passwords)
if settings.create_access_keys:
    pulumi.export("developer_access_key_ids", developers.access_key_ids)
    pulumi.export("developer_encrypted_secret_access_keys", developers.encrypted_secret_access_keys)
if app is not None:
    pulumi.export("service_url", app.service_url)
    pulumi.export("cluster_name", app.cluster_name)
    pulumi.export("service_name", app.service_name)
    pulumi.export("log_group_name", app.log_group_name)
    # Running it like production (docs/operations.md): where alarms go, where access logs are.
    pulumi.export("alarm_topic_arn", app.alarm_topic_arn)
    pulumi.export("access_log_bucket", app.access_log_bucket)
    if app.web_acl_arn is not None:
        pulumi.export("web_acl_arn", app.web_acl_arn)
