"""The Pulumi components of the ecr-cross-account project and their pure helpers."""
