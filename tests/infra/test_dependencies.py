"""Dependencies point inward: read from the source with `ast`, so nothing needs importing.

The program's packages are layered `__main__` -> `components` <- `policy`, `tools`: components
import no other first-party package, and no package or module imports its way back to itself.
Imports under `if TYPE_CHECKING:` are for the type checker only and are not counted.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from tests.infra.harness import ROOT

# The Pulumi program and what ships with it (services/ and tests/ are checked by their own tests).
PACKAGES = ("components", "policy", "tools")
FIRST_PARTY = (*PACKAGES, "services", "tests", "benchmarks")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def program_modules() -> dict[str, Path]:
    files = [ROOT / "__main__.py", *(p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py"))]
    return {module_name(path): path for path in files}


def _runtime_nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node except those under `if TYPE_CHECKING:`."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test) in (
            "TYPE_CHECKING",
            "typing.TYPE_CHECKING",
        ):
            yield from (n for child in node.orelse for n in (child, *_runtime_nodes(child)))
            continue
        yield node
        yield from _runtime_nodes(node)


def imports(path: Path) -> set[str]:
    """The first-party modules a file imports at run time (`from pkg import mod` names mod)."""
    found: set[str] = set()
    for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in found if name.split(".")[0] in FIRST_PARTY}


def graph() -> dict[str, set[str]]:
    """Module -> the program's modules it imports."""
    modules = program_modules()
    return {name: imports(path) & set(modules) for name, path in modules.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(edges.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_components_import_no_other_first_party_package() -> None:
    outward = {
        name: sorted(i for i in imports(path) if not i.startswith("components"))
        for name, path in program_modules().items()
        if name.startswith("components")
    }
    assert {name: found for name, found in outward.items() if found} == {}


def test_no_module_of_the_program_imports_its_way_back_to_itself() -> None:
    assert cycles(graph()) == []


def test_no_package_imports_its_way_back_to_itself() -> None:
    packages: dict[str, set[str]] = {}
    for module, targets in graph().items():
        source = module.split(".")[0]
        packages.setdefault(source, set()).update(
            t.split(".")[0] for t in targets if t.split(".")[0] != source
        )
    assert cycles(packages) == []
    assert packages["components"] == set()


def test_cycles_finds_a_package_cycle_and_ignores_a_chain() -> None:
    # The detector itself: policy -> components -> policy was main's cycle.
    assert cycles({"components": {"policy"}, "policy": {"components"}}) == [
        ["components", "policy"]
    ]
    assert cycles({"__main__": {"components"}, "policy": {"components"}, "components": set()}) == []
