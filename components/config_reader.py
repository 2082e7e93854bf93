"""Typed reads of a config object that collect every problem instead of stopping at the first.

One format for every message (`<key>: expected <what>, got <value>.`), keys named as the user
typed them, and values set with `--secret` never echoed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any, Final

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


class Reader:
    """Typed reads of one config object; a bad value is recorded as a problem and read as None."""

    def __init__(self, problems: Problems, path: str, values: Mapping[str, Any]) -> None:
        self.problems = problems
        self.path = path
        self.values = values

    def child(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def check_keys(self, known: Iterable[str]) -> None:
        known = set(known)
        for name in self.values:
            if name not in known:
                self.problems.bad(self.child(name), f"{keys_text(known)} (unknown key)", name)

    def raw(self, name: str) -> Any:
        return self.values.get(name)

    def string(
        self, name: str, *, pattern: re.Pattern[str] | None = None, expected: str = "a string"
    ) -> str | None:
        value = self.values.get(name)
        if value is None:
            return None
        if not isinstance(value, str) or (pattern is not None and not pattern.fullmatch(value)):
            self.problems.bad(self.child(name), expected, value)
            return None
        return value

    def boolean(self, name: str, default: bool) -> bool:
        value = self.values.get(name, default)
        if isinstance(value, str) and value in ("true", "false"):
            return value == "true"
        if not isinstance(value, bool):
            self.problems.bad(self.child(name), "true or false", value)
            return default
        return value

    def integer(self, name: str, default: int, *, minimum: int, maximum: int) -> int:
        value = self.values.get(name, default)
        if isinstance(value, str) and re.fullmatch(r"-?\d+", value):
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
            self.problems.bad(self.child(name), f"an integer from {minimum} to {maximum}", value)
            return default
        return value

    def obj(self, name: str) -> Reader | None:
        value = decoded(self.values.get(name))
        if value is None:
            return None
        if not isinstance(value, dict):
            self.problems.bad(self.child(name), "an object (key: value pairs)", value)
            return None
        return Reader(self.problems, self.child(name), value)

    def strings(
        self, name: str, *, pattern: re.Pattern[str], expected: str
    ) -> tuple[str, ...] | None:
        value = decoded(self.values.get(name))
        if value is None:
            return ()
        if not isinstance(value, list):
            self.problems.bad(self.child(name), "a list", value)
            return None
        items: list[str] = []
        for index, item in enumerate(value):
            # `pulumi config set --path 'ids[0]' 222222222222` stores digits as a number; its
            # decimal text is what was typed, unless that had leading zeros (the pattern says).
            text = str(item) if isinstance(item, int) and not isinstance(item, bool) else item
            if not isinstance(text, str) or not pattern.fullmatch(text):
                self.problems.bad(f"{self.child(name)}[{index}]", expected, item)
            elif text in items:
                self.problems.bad(f"{self.child(name)}[{index}]", "no duplicates", item)
            else:
                items.append(text)
        return tuple(items)


def decoded(value: Any) -> Any:
    """Pulumi hands structured config to the program as JSON text; accept it decoded too."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value
