"""docs/configuration.md, generated from the settings models (like terraform-docs' inputs table).

    $ .venv/bin/python -m components.settings_docs > docs/configuration.md

tests/infra/test_settings_docs.py fails when the committed page is not what this prints.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Iterator
from typing import Any, get_args, get_origin

from pydantic.fields import FieldInfo

from components import settings_rules
from components.config_types import Check, Structured
from components.settings import PROJECT, ConfigModel, Settings

HEADER = f"""# Configuration

<!-- Generated from components/settings.py by `python -m components.settings_docs`; do not edit. -->

Every key a stack's config (`Pulumi.<stack>.yaml`) may set. Keys are in the project's namespace
(`{PROJECT}:accountId`) unless they name their own (`aws:region`). Set a key with
`pulumi config set <key> <value>`, a nested one with `--path` (`pulumi config set --path
app.cpu 2048`), and `apiKey` with `--secret`. A bad config fails before any resource exists,
with one line per problem naming the key as written here.

The vendor's image in the customer's region (`vendorMirror`, `acceptReplicationFrom`,
`cacheAccounts`, `replicateTo`), NAT-less tasks (`app.vpcEndpoints`) and `scanning`, together:
[mirroring.md](mirroring.md).
"""


def _unwrapped(annotation: Any) -> Any:
    while True:
        args = get_args(annotation)
        if hasattr(annotation, "__metadata__"):
            annotation = args[0]
        elif type(None) in args:
            annotation = next(a for a in args if a is not type(None))
        else:
            return annotation


def _model_of(annotation: Any) -> type[ConfigModel] | None:
    """The model a field holds: itself, or as the items of a list or values of a map."""
    annotation = _unwrapped(annotation)
    if get_origin(annotation) in (tuple, dict):
        annotation = _unwrapped(get_args(annotation)[0 if get_origin(annotation) is tuple else -1])
    if isinstance(annotation, type) and issubclass(annotation, ConfigModel):
        return annotation
    return None


def _type(field: FieldInfo) -> str:
    annotation = _unwrapped(field.annotation)
    origin = get_origin(annotation)
    if origin is tuple:
        return "list of " + _type_name(get_args(annotation)[0])
    if origin is dict:
        return "map of " + _type_name(get_args(annotation)[-1])
    return _type_name(annotation)


def _type_name(annotation: Any) -> str:
    annotation = _unwrapped(annotation)
    if isinstance(annotation, type) and issubclass(annotation, ConfigModel):
        return "object"
    # Anything else is the secret apiKey, read as a secret Output.
    return {str: "string", int: "integer", float: "number", bool: "boolean"}.get(
        annotation, "secret"
    )


def _markers(annotation: Any) -> list[Check]:
    """The markers of a type, looking inside `X | None`."""
    optional = get_args(annotation) if type(None) in get_args(annotation) else ()
    for candidate in (annotation, *optional):
        found = [m for m in getattr(candidate, "__metadata__", ()) if isinstance(m, Check)]
        if found:
            return found
    return []


def _expected(markers: list[Check]) -> str:
    """What markers accept in words (a Structured marker only when it asks for more)."""
    return "; ".join(m.expected for m in markers if not isinstance(m, Structured) or m.min_items)


def _allowed(field: FieldInfo) -> str:
    """The field's constraint, then its items' (`each: ...`) or its keys' and values'."""
    own = [m for m in field.metadata if isinstance(m, Check)] + _markers(field.annotation)
    words = [_expected(own)]
    annotation = _unwrapped(field.annotation)
    args = get_args(annotation)
    if get_origin(annotation) is tuple and _model_of(args[0]) is None:
        words.append(f"each: {_expected(_markers(args[0]))}")
    elif get_origin(annotation) is dict:
        words.append(f"keys: {_expected(_markers(args[0]))}")
        if _model_of(args[-1]) is None:
            words.append(f"values: {_expected(_markers(args[-1]))}")
    return "; ".join(w for w in words if w)


def _default(field: FieldInfo) -> str:
    if field.is_required():
        return "required"
    default = field.get_default(call_default_factory=True)
    if default is None or default == () or default == {}:
        return "none"
    if isinstance(default, bool):
        return f"`{str(default).lower()}`"
    if isinstance(default, ConfigModel):
        return "each key's default (below)"
    if isinstance(default, float) and default.is_integer():
        return f"`{default:g}`"
    return f"`{default}`"


def _cell(text: str) -> str:
    # `<name>` would be read as an HTML tag, and `|` ends a cell.
    return text.replace("|", "\\|").replace("<", "&lt;")


def _table(model: type[ConfigModel]) -> list[str]:
    lines = ["| Key | Type | Default | Allowed values | Description |", "|---|---|---|---|---|"]
    for field in model.model_fields.values():
        lines.append(
            "| "
            + " | ".join(
                _cell(cell)
                for cell in (
                    f"`{field.alias}`",
                    _type(field),
                    _default(field),
                    _allowed(field),
                    field.description or "",
                )
            )
            + " |"
        )
    return lines


def _sections() -> Iterator[tuple[str, type[ConfigModel]]]:
    """(heading, model) of the top level and of every nested object, in the order keys appear."""
    pending: list[tuple[str, type[ConfigModel]]] = [("", Settings)]
    while pending:
        path, model = pending.pop(0)
        yield path, model
        for field in model.model_fields.values():
            nested = _model_of(field.annotation)
            if nested is not None:
                origin = get_origin(_unwrapped(field.annotation))
                suffix = {tuple: "[i]", dict: ".<name>"}.get(origin, "")
                key = f"{path}.{field.alias}" if path else str(field.alias)
                pending.append((key + suffix, nested))


def _rules() -> list[str]:
    """The rules between keys, from settings_rules' docstrings (in the order they run)."""
    functions = [
        function
        for name, function in inspect.getmembers(settings_rules, inspect.isfunction)
        if name.startswith("_check") and function.__module__ == settings_rules.__name__
    ]
    functions.sort(key=lambda f: f.__code__.co_firstlineno)
    return [f"- {' '.join((inspect.getdoc(f) or '').split())}" for f in functions]


def render() -> str:
    """The whole page."""
    lines = [HEADER.rstrip(), ""]
    for path, model in _sections():
        lines += [f"## {f'`{path}`' if path else 'Top-level keys'}", ""]
        lines += [inspect.getdoc(model) or "", ""]
        lines += _table(model)
        lines.append("")
    lines += [
        "## Rules between keys",
        "",
        "Checked once every value above is valid on its own (components/settings_rules.py):",
        "",
        *_rules(),
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
