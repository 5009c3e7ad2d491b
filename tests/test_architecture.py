"""The package's structure: no import circle, so each module can be read and tested from the bottom up.

The graph is the runtime one: every ``import`` at module level or inside a function, but not those
under ``if TYPE_CHECKING:`` (they exist for mypy only and never run). The one deliberate
exception is the Keras-style facade: ``Sequential.compile/fit/evaluate/predict/save`` call up into
:mod:`axon.training` and :mod:`axon.io.model_file`, which build on :mod:`axon.model`.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
#: (importer, imported) edges allowed to point back up: the facade of axon.model.
FACADE = {("axon.model", "axon.training"), ("axon.model", "axon.io.model_file")}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _runtime_imports(tree: ast.Module, module: str, is_package: bool, modules: frozenset[str] = frozenset()
                     ) -> set[str]:
    """What ``module`` imports when it runs. ``from pkg import sub`` names ``pkg.sub`` (a module of
    ``modules``) only: a package's own ``__init__`` runs before any of its modules anyway."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")[: len(module.split(".")) - node.level + (1 if is_package else 0)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            subs = {f"{target}.{a.name}" for a in node.names} & modules  # `from axon import io`
            found.update(subs)
            if len(subs) < len(node.names):  # some names are defined in the package itself
                found.add(target)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def _graph() -> dict[str, set[str]]:
    files = {_module_name(p): p for p in SRC.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        imports = _runtime_imports(ast.parse(path.read_text()), name, path.name == "__init__.py",
                                   frozenset(files))
        graph[name] = {m for m in imports if m in files and m != name and (name, m) not in FACADE}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def strongconnect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                strongconnect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in graph:
        if v not in index:
            strongconnect(v)
    return out


def test_the_runtime_import_graph_has_no_circle():
    cycles = _cycles(_graph())
    assert not cycles, "import circles (outside the facade of axon.model): " + "; ".join(
        " <-> ".join(c) for c in cycles)


def test_the_checker_finds_a_circle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_type_checking_imports_are_not_runtime_edges():
    tree = ast.parse("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import axon.model\n"
                     "def f():\n    import axon.training\n")
    assert _runtime_imports(tree, "axon.x", False) == {"typing", "axon.training"}
