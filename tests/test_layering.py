"""The import graph keeps its layers: web → services → places/hours → store/geo, never back."""

from __future__ import annotations

import ast
from pathlib import Path

import locator

PACKAGE = Path(locator.__file__).parent

# Rank of each top-level part of the package: a module may import only parts of rank <= its own,
# and a part of the same rank only where SAME_RANK allows it.
RANKS = {
    "config": 0,
    "geo": 0,
    "phones": 0,
    "wording": 0,
    "store": 1,
    "places": 2,
    "hours": 2,
    "territories": 2,
    "lookup": 3,
    "ingest": 3,
    "publish": 3,
    "maps": 3,
    "admin": 4,
    "web": 5,
    "clifrench": 5,  # the command line's French (click's catalog, o/n answers): only the CLI uses it
    "testing": 6,
    "cli": 6,
    "app": 6,
    "__init__": 6,
    "locale": 0,  # data only: the gettext catalog of the command line
}
# Same-rank imports that are allowed, one way only (the reverse would be a cycle).
SAME_RANK = {
    ("ingest", "lookup"),
    ("publish", "lookup"),
    ("territories", "places"),
    ("cli", "__init__"),
    ("cli", "app"),
    ("__init__", "app"),
}


def _part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _module_name(path: Path) -> tuple[str, bool]:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        return ".".join(parts[:-1]), True
    return ".".join(parts), False


def _submodule_or_package(package: str, name: str) -> str:
    """`from locator.x import y`: y's module when y is a module, else the package itself."""
    folder = PACKAGE.parent.joinpath(*package.split("."))
    return f"{package}.{name}" if (folder / f"{name}.py").exists() or (folder / name).is_dir() else package


def _imports(path: Path) -> set[str]:
    """Return every locator module this file imports (at the top or inside functions)."""
    name, is_pkg = _module_name(path)
    base = name.split(".") if is_pkg else name.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                parent = base[: len(base) - (node.level - 1)]
                target = ".".join(parent + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target == "locator" or target.startswith("locator."):
                if node.module is None or target == "locator":
                    found.update(_submodule_or_package(target, alias.name) for alias in node.names)
                else:
                    found.add(target)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("locator"))
    return found


def _edges() -> list[tuple[str, str]]:
    edges = []
    for path in PACKAGE.rglob("*.py"):
        name, _ = _module_name(path)
        edges.extend((name, target) for target in _imports(path))
    return edges


def test_every_part_of_the_package_has_a_layer():
    parts = {p.stem if p.is_file() else p.name for p in PACKAGE.iterdir() if p.suffix == ".py" or p.is_dir()}
    parts.discard("__pycache__")
    assert parts - set(RANKS) == set()


def test_no_module_imports_a_higher_layer():
    edges = _edges()
    assert len(edges) > 100  # the graph was read, not an empty walk
    wrong = []
    for source, target in edges:
        a, b = _part(source), _part(target)
        if a == b or target == "locator.config":
            continue
        if RANKS[b] > RANKS[a] or (RANKS[b] == RANKS[a] and (a, b) not in SAME_RANK):
            wrong.append(f"{source} → {target}")
    assert wrong == []


def test_geo_imports_nothing_of_the_project_and_store_nothing_of_the_services():
    for source, target in _edges():
        if _part(source) == "geo":
            assert _part(target) == "geo", (source, target)
        if _part(source) == "store":
            assert _part(target) in {"store", "geo", "config", "wording"}, (source, target)
