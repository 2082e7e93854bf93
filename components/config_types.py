"""How one config value is read and checked: the pieces the settings models are declared with.

Each marker goes in a field's `Annotated[...]` and says what the field accepts in words
(`expected`, the `expected ...` of an error and the constraint in docs/configuration.md). A bad
value raises `invalid(...)`, a pydantic error of type `config` whose context holds that text;
`components.settings` turns it into the one error format of `components.config_errors`.
Values arrive as `pulumi config` stores them: strings, JSON text or already-decoded values.
"""

from __future__ import annotations

import ipaddress
import json
import math
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Final

from pydantic import BaseModel, GetCoreSchemaHandler
from pydantic_core import PydanticCustomError, core_schema

# The pydantic error type of every problem these markers find.
CONFIG_ERROR: Final = "config"
_NOT_SET: Final = object()


def invalid(
    expected: str, *, got: str | None = None, index: int | None = None, value: Any = _NOT_SET
) -> PydanticCustomError:
    """The error of a bad value: `expected` in words; `got` describes the value instead of
    showing it; `index` names the item of a list; `value` is shown instead of the whole input."""
    context: dict[str, Any] = {"expected": expected}
    if got is not None:
        context["got"] = got
    if index is not None:
        context["index"] = index
    if value is not _NOT_SET:
        context["value"] = value
    return PydanticCustomError(CONFIG_ERROR, "expected {expected}", context)


def decoded(value: Any) -> Any:
    """Pulumi hands structured config to the program as JSON text; accept it decoded too."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


class _Plain(ABC):
    """A marker whose `validate` alone reads the value (pydantic's own checks of the type do not
    run, so every error is `invalid(...)`)."""

    @abstractmethod
    def validate(self, value: Any) -> Any: ...

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(self.validate)


@dataclass(frozen=True)
class Text(_Plain):
    """A string, matching `pattern` when one is given."""

    expected: str
    pattern: re.Pattern[str] | None = None
    # Accept a number as its decimal text (`pulumi config set --path 'ids[0]' 222222222222`
    # stores digits as a number; a lost leading zero is then refused by the pattern).
    numbers: bool = False

    def validate(self, value: Any) -> str:
        text = value
        if self.numbers and isinstance(value, int) and not isinstance(value, bool):
            text = str(value)
        if not isinstance(text, str) or (self.pattern and not self.pattern.fullmatch(text)):
            raise invalid(self.expected)
        return text


@dataclass(frozen=True)
class Integer(_Plain):
    """An integer from `minimum` to `maximum` (digits in a string too), one of `allowed` if set."""

    minimum: int
    maximum: int
    allowed: tuple[int, ...] = ()
    # What `allowed` means, in an error (required with `allowed`).
    allowed_expected: str = ""

    @property
    def expected(self) -> str:
        return self.allowed_expected or f"an integer from {self.minimum} to {self.maximum}"

    def validate(self, value: Any) -> int:
        if isinstance(value, str) and re.fullmatch(r"-?[0-9]+", value):
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise invalid(f"an integer from {self.minimum} to {self.maximum}")
        if not self.minimum <= value <= self.maximum:
            raise invalid(f"an integer from {self.minimum} to {self.maximum}")
        if self.allowed and value not in self.allowed:
            raise invalid(self.allowed_expected)
        return value


def _plain(number: float) -> str:
    """1000000.0 -> "1000000", 0.5 -> "0.5" (no exponent, no trailing .0)."""
    return str(int(number)) if float(number).is_integer() else str(number)


@dataclass(frozen=True)
class Number(_Plain):
    """A number above `above`, at most `maximum` (an integer or decimal; digits in a string too)."""

    above: float
    maximum: float

    @property
    def expected(self) -> str:
        return f"a number above {_plain(self.above)}, at most {_plain(self.maximum)}"

    def validate(self, value: Any) -> float:
        if isinstance(value, str) and re.fullmatch(r"-?[0-9]+(?:\.[0-9]+)?", value):
            value = float(value)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise invalid(self.expected)
        if not (math.isfinite(value) and self.above < value <= self.maximum):
            raise invalid(self.expected)
        return float(value)


@dataclass(frozen=True)
class CidrBlock(_Plain):
    """An IPv4 or IPv6 CIDR block without host bits (`203.0.113.0/24`, `2001:db8::/32`)."""

    expected: str = "a CIDR block without host bits, such as '203.0.113.0/24' or '2001:db8::/32'"

    def validate(self, value: Any) -> str:
        if not isinstance(value, str) or "/" not in value:
            raise invalid(self.expected)
        try:
            ipaddress.ip_network(value, strict=True)
        except ValueError:
            raise invalid(self.expected) from None
        return value


@dataclass(frozen=True)
class Boolean(_Plain):
    """true or false (the strings `pulumi config set` stores too)."""

    expected: str = "true or false"

    def validate(self, value: Any) -> bool:
        if isinstance(value, str) and value in ("true", "false"):
            return value == "true"
        if not isinstance(value, bool):
            raise invalid(self.expected)
        return value


@dataclass(frozen=True)
class Refuse:
    """A value that has the field's shape but must not be used (`got` says why, not the value)."""

    value: str
    expected: str
    got: str

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(self.validate, handler(source))

    def validate(self, value: Any) -> Any:
        if value == self.value:
            raise invalid(self.expected, got=self.got)
        return value


@dataclass(frozen=True)
class Structured:
    """An object (`kind=dict`) or a list (`kind=list`), given as JSON text or decoded."""

    kind: type[dict[Any, Any]] | type[list[Any]]
    # Default: "an object (key: value pairs)" or "a list".
    expected: str = ""
    # Default: empty is fine. Fewer items (or keys) are refused with `expected`.
    min_items: int = 0
    # Lists only: an item that repeats an earlier one is refused, naming its index.
    unique: bool = False

    def __post_init__(self) -> None:
        if not self.expected:
            what = "an object (key: value pairs)" if self.kind is dict else "a list"
            object.__setattr__(self, "expected", what)

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        schema = core_schema.no_info_after_validator_function(self.after, handler(source))
        return core_schema.no_info_before_validator_function(self.before, schema)

    def before(self, value: Any) -> Any:
        value = decoded(value)
        # Code builds lists as tuples (the models' own type) and objects as models.
        built = (tuple,) if self.kind is list else (BaseModel,)
        if not isinstance(value, (self.kind, *built)):
            raise invalid(self.expected)
        return value

    def after(self, value: Any) -> Any:
        if self.min_items and len(value) < self.min_items:
            raise invalid(self.expected)
        if self.unique:
            for index, item in enumerate(value):
                if item in value[:index]:
                    raise invalid("no duplicates", index=index, value=item)
        return value


@dataclass(frozen=True)
class Retired(_Plain):
    """A key no longer accepted, known only so that an old stack file gets the reason (`expected`)
    instead of "unknown key"; any value is refused, described by `got`, never shown."""

    expected: str
    got: str

    def validate(self, value: Any) -> Any:
        raise invalid(self.expected, got=self.got)


@dataclass(frozen=True)
class Missing:
    """A required key's fix: `pulumi config set <how>` (otherwise: `expected ..., got None`)."""

    how: str


# Every marker that says what a value must be (docs/configuration.md lists their `expected`).
Check = Text | Integer | Number | CidrBlock | Boolean | Structured | Retired
