"""The one format of config and args errors, collected so one error lists every problem.

One format for every message (`<key>: expected <what>, got <value>.`), keys named as the user
typed them, and values set with `--secret` never echoed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

# The one format of a bad value, and of a missing key (each message says how to fix it).
ERROR_FORMAT: Final = "{key}: expected {expected}, got {got}."
MISSING_FORMAT: Final = "`{key}` is not set; set it with `pulumi config set {how}`."


def format_problem(key: str, expected: str, value: object) -> str:
    """The one error line: `<key>: expected <expectation>, got <repr(value)>.`"""
    return ERROR_FORMAT.format(key=key, expected=expected, got=repr(value))


class Problems:
    """Collects every problem of a config, each naming the key as the user typed it."""

    def __init__(self, project: str, secret_keys: frozenset[str] = frozenset()) -> None:
        self.project = project
        self.secret_keys = secret_keys
        self.lines: list[str] = []

    def key(self, path: str) -> str:
        return path if ":" in path else f"{self.project}:{path}"

    def bad(self, path: str, expected: str, value: object) -> None:
        if re.split(r"[.\[]", path, maxsplit=1)[0] in self.secret_keys:
            # A value stored with `--secret` is never echoed, whatever key it was set on.
            self.got(path, expected, "a secret value (not shown)")
        else:
            self.lines.append(format_problem(self.key(path), expected, value))

    def got(self, path: str, expected: str, got: str) -> None:
        """A problem whose value is described, not shown (a secret, or a missing counterpart)."""
        self.lines.append(ERROR_FORMAT.format(key=self.key(path), expected=expected, got=got))

    def missing(self, path: str, how: str) -> None:
        self.lines.append(MISSING_FORMAT.format(key=path, how=how))

    def add(self, line: str) -> None:
        self.lines.append(line)

    def raise_if_any(self) -> None:
        if self.lines:
            raise ValueError("\n".join(self.lines))


def keys_text(keys: Iterable[str]) -> str:
    return "one of " + ", ".join(f"`{k}`" for k in sorted(keys))
