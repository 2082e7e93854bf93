"""The suite's own layout: what tests import is a module (conftest files hold fixtures and hooks
only, test modules hold tests), and a helper is written once (tests/support/ holds what several
packages share)."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Every Python file that may import test helpers: the suite and the benchmarks built on it.
SOURCES = sorted([*(ROOT / "tests").rglob("*.py"), *(ROOT / "benchmarks").rglob("*.py")])
FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef


def _relative(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


def _imported_modules(tree: ast.Module) -> list[str]:
    modules: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.append(node.module)
            modules += [f"{node.module}.{alias.name}" for alias in node.names]
    return modules


def _is_test_module(module: str) -> bool:
    """A conftest file or a test module (``test_*``), by its dotted name."""
    name = module.rpartition(".")[2]
    return name == "conftest" or name.startswith("test_")


def imports_of_test_modules(sources: list[Path], root: Path = ROOT) -> list[str]:
    """`<file>: <module>` for every import of a conftest or test module."""
    return [
        f"{_relative(path, root)}: {module}"
        for path in sources
        for module in _imported_modules(ast.parse(path.read_text(), str(path)))
        if _is_test_module(module)
    ]


def _body(function: FunctionNode) -> str:
    """The function as the parser sees it, without its name, docstring or positions."""
    statements = function.body
    if (
        statements
        and isinstance(statements[0], ast.Expr)
        and isinstance(statements[0].value, ast.Constant)
        and isinstance(statements[0].value.value, str)
    ):
        statements = statements[1:]
    return ast.dump(ast.Module(body=[*statements], type_ignores=[])) + ast.dump(function.args)


def _functions(tree: ast.Module) -> list[FunctionNode]:
    """The module's functions and its classes' methods (closures inside a function are that
    function's own business)."""
    classes = [node for node in tree.body if isinstance(node, ast.ClassDef)]
    return [
        node
        for node in [*tree.body, *(item for cls in classes for item in cls.body)]
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    ]


def repeated_functions(sources: list[Path], root: Path = ROOT) -> list[str]:
    """`<name>: <file>, <file>...` for each function or method that two or more modules define
    with the same name and the same body."""
    places: dict[tuple[str, str], set[str]] = defaultdict(set)
    for path in sources:
        for node in _functions(ast.parse(path.read_text(), str(path))):
            places[node.name, _body(node)].add(_relative(path, root))
    return sorted(
        f"{name}: {', '.join(sorted(files))}"
        for (name, _), files in places.items()
        if len(files) > 1
    )


def test_no_module_imports_a_conftest_or_a_test_module() -> None:
    # pytest loads conftest files and test modules itself; an import of one runs it a second time
    # under another name (a test module's tests are then collected twice when imported by name),
    # and hides helpers and data where a reader looks for fixtures or tests.
    assert imports_of_test_modules(SOURCES) == []


def test_no_two_modules_define_the_same_function() -> None:
    assert repeated_functions(SOURCES) == []


def test_the_checks_find_what_they_look_for(tmp_path: Path) -> None:
    first, second, third = tmp_path / "first.py", tmp_path / "second.py", tmp_path / "third.py"
    first.write_text(
        "from tests.infra.conftest import run_stack\n"
        "def free_port() -> int:\n    '''One.'''\n    return 1\n"
    )
    second.write_text(
        "import tests.services.conftest\n"
        "class Server:\n"
        "    def free_port(self) -> int:\n        '''Two.'''\n        return 1\n"
    )
    # Same name, other body; same body, other name; a closure: none is a copy.
    third.write_text(
        "from tests.infra import harness, test_settings\n"
        "from tests.services.test_rake import SEED_TEXT\n"
        "def free_port() -> int:\n    return 2\n"
        "def any_port() -> int:\n    return 1\n"
        "def outer() -> None:\n    def free_port() -> int:\n        return 1\n"
    )
    sources = [first, second, third]

    assert imports_of_test_modules(sources, tmp_path) == [
        "first.py: tests.infra.conftest",
        "second.py: tests.services.conftest",
        "third.py: tests.infra.test_settings",
        "third.py: tests.services.test_rake",
    ]
    assert repeated_functions(sources, tmp_path) == []  # `self` makes the method another function
    second.write_text("def free_port() -> int:\n    return 1\n")
    assert repeated_functions(sources, tmp_path) == ["free_port: first.py, second.py"]
