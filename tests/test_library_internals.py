"""The hub uses its libraries through their public APIs only: no attribute of theirs whose
name starts with one underscore is read, set or overridden in credithub/, connectors/ or
schemas/.

A private name is one the libraries' own sources define or use (`def _x`, `._x`). Our code
is flagged where it reaches such a name on an object that is not its own (`obj._x` with obj
other than self/cls/super()), unless our code defines that name itself, and where a class of
ours that derives from a library class defines a method of such a name.
"""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LIBRARIES = ("marshmallow", "webargs", "flask_smorest", "apispec", "sqlalchemy", "flask")
OURS = ("credithub", "connectors", "schemas")
# Documented ways in: marshmallow's custom fields override _serialize/_deserialize, Flask's
# proxies document _get_current_object, and os._exit is the standard library's.
DOCUMENTED = frozenset({"_serialize", "_deserialize", "_get_current_object", "_exit"})
_PRIVATE = re.compile(r"(?:\bdef |\.)(_[a-z]\w*)")


def _library_private_names() -> frozenset[str]:
    names: set[str] = set()
    for library in LIBRARIES:
        package = importlib.import_module(library)
        for source in Path(package.__file__ or "").parent.rglob("*.py"):
            names.update(_PRIVATE.findall(source.read_text(encoding="utf-8")))
    return frozenset(names - DOCUMENTED)


def _our_files() -> list[Path]:
    return sorted(p for top in OURS for p in (ROOT / top).rglob("*.py"))


def _own_names(trees: list[ast.Module]) -> set[str]:
    """Private names our code gives to its own objects (self._x = …, def _x, class-level)."""
    own: set[str] = set()
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                own.add(node.name)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                if isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
                    own.add(node.attr)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                own.add(node.id)
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                own.add(node.target.id)
    return own


def _library_bases(tree: ast.Module) -> set[str]:
    """Names this module imports from the libraries (classes it may derive from)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in LIBRARIES:
            names.update(alias.asname or alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(
                (alias.asname or alias.name).split(".")[0]
                for alias in node.names
                if alias.name.split(".")[0] in LIBRARIES
            )
    return names


def _is_own_receiver(node: ast.expr) -> bool:
    if isinstance(node, ast.Name):
        return node.id in ("self", "cls")
    return (
        isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "super"
    )


def _base_name(node: ast.expr) -> str:
    while isinstance(node, ast.Attribute):
        node = node.value
    return node.id if isinstance(node, ast.Name) else ""


def uses_of_library_internals() -> list[str]:
    private = _library_private_names()
    files = list(_our_files())
    trees = [ast.parse(p.read_text(encoding="utf-8")) for p in files]
    own_derived = _own_names(trees)
    found: list[str] = []
    for path, tree in zip(files, trees, strict=True):
        where = path.relative_to(ROOT).as_posix()
        bases = _library_bases(tree)
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and node.attr in private
                and node.attr not in own_derived
                and not _is_own_receiver(node.value)
            ):
                found.append(f"{where}:{node.lineno}: .{node.attr}")
            elif isinstance(node, ast.ClassDef) and any(_base_name(b) in bases for b in node.bases):
                for item in node.body:
                    is_def = isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
                    if is_def and item.name in private:
                        found.append(f"{where}:{item.lineno}: overrides {item.name}")
    return found


def test_no_private_attribute_of_a_library_is_used() -> None:
    assert uses_of_library_internals() == []


@pytest.mark.parametrize(
    ("code", "flagged"),
    [
        ("def f(schema):\n    return schema._hooks\n", True),
        ("def f(view):\n    view._apidoc = {}\n", True),
        (
            "from webargs.flaskparser import FlaskParser\n"
            "class P(FlaskParser):\n    def _raw_load_json(self, req):\n        pass\n",
            True,
        ),
        ("class Mine:\n    def _raw_load_json(self):\n        pass\n", False),
        ("def f(self):\n    return self._hooks\n", False),
        (
            "from marshmallow import fields\n"
            "class F(fields.Field):\n    def _deserialize(self, v, a, d, **k):\n        pass\n",
            False,
        ),
    ],
)
def test_the_rule_catches_what_it_means_to(
    code: str, flagged: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check itself can fail: a module using a library's private name is flagged."""
    module = tmp_path / "credithub" / "probe.py"
    module.parent.mkdir()
    module.write_text(code, encoding="utf-8")
    for top in ("connectors", "schemas"):
        (tmp_path / top).mkdir()
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    assert bool(uses_of_library_internals()) is flagged
