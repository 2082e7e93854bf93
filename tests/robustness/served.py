"""A service as the robustness tests serve it: short body and header deadlines, and its URL."""

from __future__ import annotations

from dataclasses import dataclass

# The robustness services' body deadline: short, so the slowloris test is quick (shipped: 10 s).
BODY_TIMEOUT_SECONDS = 1.0
# Their header deadline, short for the same reason (shipped: 10 s).
HEADER_TIMEOUT_SECONDS = 1.0


@dataclass(frozen=True, kw_only=True)
class Served:
    """The base URL a service is served at, in a thread of the test process."""

    url: str
