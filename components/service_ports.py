"""Where this repository's services listen, set from the config so a container's `port` moves it.

Each image of services/ reads its port from one variable, and the edge (nlp-client) finds
rake-app and prose-app through two more (services/common/settings.py spells them; a test holds
the two modules to the same names). The stack sets them in a container's environment from the
ports the config gives, for containers named after a service; an image of another name must
listen on its `port` by itself. The vendor's image is this repository's rake-app: its variable is
part of what the vendor publishes, like its port.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

# Container name -> the variable its service listens on.
PORT_VARIABLES: Final[Mapping[str, str]] = {
    "nlp-client": "NLP_CLIENT_PORT",
    "rake-app": "RAKE_PORT",
    "prose-app": "PROSE_PORT",
}
# Container name -> {variable: the container whose address it holds}.
UPSTREAM_VARIABLES: Final[Mapping[str, Mapping[str, str]]] = {
    "nlp-client": {"RAKE_ENDPOINT": "rake-app", "PROSE_ENDPOINT": "prose-app"},
}


def upstream_url(port: int) -> str:
    """An upstream's address in the task: its containers share one network namespace."""
    return f"http://localhost:{port}"


def derived_environment(name: str, ports: Mapping[str, int]) -> dict[str, str]:
    """What the stack sets in container `name`'s environment, from every container's port.

    `derived_environment("nlp-client", {"nlp-client": 8080, "rake-app": 9000})` ->
    `{"NLP_CLIENT_PORT": "8080", "RAKE_ENDPOINT": "http://localhost:9000"}`.
    """
    environment: dict[str, str] = {}
    if name in PORT_VARIABLES and name in ports:
        environment[PORT_VARIABLES[name]] = str(ports[name])
    for variable, upstream in UPSTREAM_VARIABLES.get(name, {}).items():
        if upstream in ports:
            environment[variable] = upstream_url(ports[upstream])
    return environment
