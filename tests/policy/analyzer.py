"""A client of the policy pack as the Pulumi CLI runs it: `python policy/`, over its gRPC API.

`Analyzer.analyze(...)` sends one resource with its provider exactly as the engine does during
`pulumi preview --policy-pack policy`, and returns the diagnostics (the `analyzer` fixture in
tests/policy/conftest.py starts the pack and yields one).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

PACK_DIR = Path(__file__).resolve().parents[2] / "policy"


@dataclass(frozen=True)
class Provider:
    """The provider of a resource, as the engine describes it to analyzers."""

    type: str
    urn: str
    name: str
    props: Mapping[str, Any]


@dataclass(frozen=True)
class Diagnostic:
    """One reported violation (or a note that a policy could not run)."""

    policy: str
    message: str
    enforcement: str


class Analyzer:
    """A client of the running policy pack."""

    def __init__(self, channel: grpc.Channel) -> None:
        self._stub = analyzer_pb2_grpc.AnalyzerStub(channel)

    def info(self) -> Any:
        """The pack's `AnalyzerInfo`: name and every policy with its enforcement level."""
        return self._stub.GetAnalyzerInfo(empty_pb2.Empty())

    def analyze(
        self,
        resource_type: str,
        props: Mapping[str, Any],
        *,
        urn: str = "",
        name: str = "r",
        provider: Provider | None = None,
    ) -> list[Diagnostic]:
        """Diagnostics of the resource policies for one resource."""
        request = analyzer_pb2.AnalyzeRequest(
            type=resource_type, properties=_struct(props), urn=urn, name=name
        )
        if provider is not None:
            request.provider.CopyFrom(_provider(provider))
        return _diagnostics(self._stub.Analyze(request))

    def analyze_stack(self, resources: Sequence[tuple[str, Mapping[str, Any]]]) -> list[Diagnostic]:
        """Diagnostics of the stack policies for all of a stack's resources."""
        request = analyzer_pb2.AnalyzeStackRequest(
            resources=[
                analyzer_pb2.AnalyzerResource(type=kind, properties=_struct(props), name=f"r{i}")
                for i, (kind, props) in enumerate(resources)
            ]
        )
        return _diagnostics(self._stub.AnalyzeStack(request))


def _struct(props: Mapping[str, Any]) -> struct_pb2.Struct:
    # Struct is the wire shape: numbers become floats, secrets stay in their signature wrapper.
    struct = struct_pb2.Struct()
    struct.update(dict(props))
    return struct


def _provider(provider: Provider) -> Any:
    return analyzer_pb2.AnalyzerProviderResource(
        type=provider.type, urn=provider.urn, name=provider.name, properties=_struct(provider.props)
    )


def _diagnostics(response: Any) -> list[Diagnostic]:
    levels = {0: "advisory", 1: "mandatory", 2: "disabled", 3: "remediate"}
    return [
        Diagnostic(d.policyName, d.message, levels.get(d.enforcementLevel, "?"))
        for d in response.diagnostics
    ]
