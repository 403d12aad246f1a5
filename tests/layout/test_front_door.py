"""The front door: about 15 names, one sync/async naming rule, typed parameters (no ``**kw``,
no bare ``Any``), and lazy imports that type checkers still see."""

from __future__ import annotations

import ast
import inspect
import subprocess
import sys
from pathlib import Path

import benchwork as bw

INIT = Path(bw.__file__)


def _public_callables() -> list[tuple[str, object]]:
    out = []
    for name in bw.__all__:
        obj = getattr(bw, name)
        if inspect.isfunction(obj):
            out.append((name, obj))
        elif inspect.isclass(obj) and obj.__module__.startswith("benchwork"):
            for attr, member in vars(obj).items():
                if not attr.startswith("_") and inspect.isfunction(member):
                    out.append((f"{name}.{attr}", member))
    return out


def test_about_fifteen_names_and_the_subpackages() -> None:
    names = [
        n for n in bw.__all__ if not n.startswith("__") and not inspect.ismodule(getattr(bw, n))
    ]
    assert 12 <= len(names) <= 21, names  # about 15, plus the *_sync twins
    for internal in ("CallRecord", "RESULT_SCHEMA", "RunStore", "Event"):
        assert internal not in bw.__all__


def test_every_async_sync_pair_follows_one_rule() -> None:
    """The plain name is the coroutine; ``<name>_sync`` blocks."""
    for name, fn in _public_callables():
        base = name.rsplit(".", 1)[-1]
        if base.endswith("_sync"):
            owner = bw if "." not in name else getattr(bw, name.split(".")[0])
            twin = getattr(owner, base[: -len("_sync")])
            assert inspect.iscoroutinefunction(twin), f"{name}'s twin is not a coroutine"
            assert not inspect.iscoroutinefunction(fn), name
        assert not base.startswith("a") or not hasattr(bw, base[1:]), f"{name}: a-prefix pair"


def test_public_parameters_are_typed_and_explicit() -> None:
    for name, fn in _public_callables():
        for p in inspect.signature(fn).parameters.values():
            if p.name in ("self", "cls"):
                continue
            if name == "report" and p.name == "params":
                continue  # a template's own parameters: checked against it before a kernel starts
            assert p.kind is not p.VAR_KEYWORD, f"{name}(**{p.name}) hides its parameters"
            assert p.annotation is not p.empty, f"{name}: {p.name} has no type"
            assert str(p.annotation) not in ("Any", "typing.Any"), f"{name}: {p.name} is Any"


def test_lazy_names_are_visible_to_type_checkers() -> None:
    """Every lazily exported name is also imported under ``if TYPE_CHECKING:``."""
    tree = ast.parse(INIT.read_text(encoding="utf-8"))
    seen: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            for sub in ast.walk(node):
                if isinstance(sub, ast.ImportFrom):
                    seen.update(a.asname or a.name for a in sub.names)
    missing = [n for n in bw.__all__ if n != "__version__" and n not in seen]
    assert not missing, missing


def test_python_dash_m_benchwork_is_the_cli() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "benchwork", "--help"], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0 and "usage: benchwork" in proc.stdout
