"""The package's import graph: no cycles, no private names across subpackages, layers respected.

Imports inside functions count too (a cycle hidden in a function is still a cycle); imports
under ``if TYPE_CHECKING:`` do not (they never run).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "benchwork"

#: Subpackages from high to low: a module may import only from its own subpackage or from
#: subpackages lower in this list. ``_util`` and ``errors`` sit below everything.
LAYERS = [
    "__main__",
    "cli",
    # reports export a notebook's widgets as their static state (widgets.replace_widget_views)
    "reports",
    "widgets",
    "tuning",
    "charts",
    "sim",
    "runner",
    "analysis",
    "scoring",
    "cache",
    "store",
    "client",
    "target",
    "suite",
    "results",
    "_util",
    "errors",
]


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST, module: str, is_pkg: bool) -> list[tuple[str, list[str]]]:
    """(imported module, names) for every runtime import of a benchwork module."""
    out: list[tuple[str, list[str]]] = []

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for sub in child.orelse:
                    visit(sub)
                continue
            if isinstance(child, ast.Import):
                out.extend((a.name, []) for a in child.names if a.name.startswith("benchwork"))
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = module.split(".")
                    base = base[: len(base) - child.level + (1 if is_pkg else 0)]
                    name = ".".join([*base, child.module] if child.module else base)
                else:
                    name = child.module or ""
                if name.startswith("benchwork"):
                    out.append((name, [a.name for a in child.names]))
            visit(child)

    visit(tree)
    return out


def _graph() -> tuple[dict[str, set[str]], list[str]]:
    modules = {_module_name(p): p for p in ROOT.rglob("*.py")}
    graph: dict[str, set[str]] = {m: set() for m in modules}
    private: list[str] = []
    for mod, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for target, names in _imports(tree, mod, path.name == "__init__.py"):
            resolved = []
            for n in names:  # `from pkg import submodule` imports the submodule
                if f"{target}.{n}" in modules:
                    resolved.append(f"{target}.{n}")
            if target in modules and len(resolved) < len(names):
                resolved.append(target)
            if not names and target in modules:
                resolved.append(target)
            for r in resolved:
                if r != mod:
                    graph[mod].add(r)
            # private names or private modules of another subpackage
            own = _subpackage(mod)
            if _subpackage(target) not in (own, "_util"):
                hidden = [p for p in target.split(".")[1:] if p.startswith("_")]
                hidden += [n for n in names if n.startswith("_") and n != "__version__"]
                if hidden:
                    private.append(f"{mod} imports {target}: {hidden}")
    return graph, private


def _subpackage(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def strong(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in graph:
        if v not in index:
            strong(v)
    return out


def _package_cycle_ok(comp: list[str]) -> bool:
    """A package's ``__init__`` re-exporting its own modules is not a cycle worth failing on
    when the modules never import the ``__init__`` back (checked by the module-level graph)."""
    return False


def test_no_import_cycles():
    graph, _ = _graph()
    # a package __init__ re-exports its private modules; those must not import it back
    cycles = _cycles(graph)
    assert not cycles, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in cycles)


def test_no_private_names_across_subpackages():
    _, private = _graph()
    assert not private, "\n".join(private)


@pytest.mark.parametrize("layer", LAYERS)
def test_layers(layer):
    graph, _ = _graph()
    rank = {name: i for i, name in enumerate(LAYERS)}
    bad = []
    for mod, deps in graph.items():
        if _subpackage(mod) != layer:
            continue
        for dep in deps:
            sub = _subpackage(dep)
            if sub and sub != layer and sub in rank and rank[sub] < rank[layer]:
                bad.append(f"{mod} -> {dep}")
    assert not bad, f"{layer} imports from a higher layer:\n" + "\n".join(sorted(bad))


def test_every_subpackage_is_layered():
    subs = {p.name for p in ROOT.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    subs |= {p.stem for p in ROOT.glob("*.py") if p.stem != "__init__"}
    assert subs <= set(LAYERS), f"not in LAYERS: {sorted(subs - set(LAYERS))}"
