"""What decides a rerun: a digest of the code a job runs, derived from its imports.

Snakemake reruns a job when its script file changes, but not when a module that the script
imports does. Every rule therefore carries, as a param, a digest of the source of its entry
script's *import closure*: the ``theorydl`` modules it imports, the modules those import, and
so on, found by reading the files (nothing is imported, so computing a digest never starts
TensorFlow). An edit of a module reruns exactly the jobs whose closure holds it.

The digest is taken over each file's syntax tree, not its bytes: an edit of a comment or of the
layout changes no job's result and reruns nothing; any other edit, a docstring included, reruns.

A generic entry point that dispatches on a param (``scripts/figure.py`` draws the figure its
rule names) is given the module it will dispatch to; a figure function is digested on its own,
with the module-level code of its file and the top-level functions it calls, so that an edit of
one figure redraws that figure alone.
"""

from __future__ import annotations

import ast
import hashlib
from collections.abc import Iterable
from functools import cache
from pathlib import Path

PACKAGE = "theorydl"
PACKAGE_DIR = Path(__file__).resolve().parent


def module_file(module: str) -> Path | None:
    """The source file of a ``theorydl`` module or package, or None if there is none."""
    if module != PACKAGE and not module.startswith(f"{PACKAGE}."):
        return None
    parts = module.split(".")[1:]
    candidates = [PACKAGE_DIR.joinpath(*parts, "__init__.py")]
    if parts:
        candidates.append(PACKAGE_DIR.joinpath(*parts[:-1], f"{parts[-1]}.py"))
    return next((c for c in candidates if c.is_file()), None)


@cache
def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), filename=str(path))


def _module_name(path: Path) -> str | None:
    try:
        relative = path.resolve().relative_to(PACKAGE_DIR.parent)
    except ValueError:
        return None  # an entry script outside the package
    parts = list(relative.with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _absolute(node: ast.ImportFrom, path: Path) -> str:
    if not node.level:
        return node.module or ""
    package = (_module_name(path) or "").split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    base = package[: len(package) - node.level + 1]
    return ".".join([*base, *([node.module] if node.module else [])])


def imported_files(path: Path, nodes: Iterable[ast.AST] | None = None) -> set[Path]:
    """The ``theorydl`` source files that ``path`` imports (anywhere in it, functions included).

    ``from theorydl.x import y`` counts ``x`` and, where ``y`` is a module, ``y``; every
    enclosing package's ``__init__.py`` counts too, since importing ``x`` runs them.
    """
    found: set[Path] = set()
    names: list[str] = []
    for node in ast.walk(_tree(path)) if nodes is None else _walk_all(nodes):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node, path)
            names.append(base)
            names += [f"{base}.{alias.name}" for alias in node.names]
    for name in names:
        parts = name.split(".")
        for end in range(1, len(parts) + 1):
            file = module_file(".".join(parts[:end]))
            if file is not None:
                found.add(file)
    return found


def _walk_all(nodes: Iterable[ast.AST]) -> Iterable[ast.AST]:
    for node in nodes:
        yield from ast.walk(node)


def closure(entries: Iterable[str | Path]) -> list[Path]:
    """Every file that the entry files import, directly or not, with the entries; sorted."""
    seen: set[Path] = set()
    todo = [Path(e).resolve() for e in entries]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        todo += sorted(imported_files(path) - seen)
    return sorted(seen)


def _top_level_names(node: ast.stmt) -> set[str]:
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return {node.name}
    return set()


def function_nodes(path: Path, function: str) -> list[ast.stmt]:
    """The statements one top-level function of ``path`` depends on inside its own file.

    That is the function, every other top-level function or class it names (transitively), and
    every module-level statement that is not a definition (imports, constants, set-up), which any
    function of the file may rely on.
    """
    body = _tree(path).body
    definitions = {name: node for node in body for name in _top_level_names(node)}
    if function not in definitions:
        raise KeyError(f"{path} defines no top-level function {function!r}")
    wanted: set[str] = set()
    todo = [function]
    while todo:
        name = todo.pop()
        if name in wanted:
            continue
        wanted.add(name)
        used = {n.id for n in ast.walk(definitions[name]) if isinstance(n, ast.Name)}
        todo += sorted((used & set(definitions)) - wanted)
    return [n for n in body if not _top_level_names(n) or _top_level_names(n) & wanted]


def _dump(nodes: Iterable[ast.AST]) -> bytes:
    return "\n".join(ast.dump(n, include_attributes=False) for n in nodes).encode()


def digest(*entries: str | Path, function: tuple[str | Path, str] | None = None) -> str:
    """A 16-hex-digit digest of the code behind a job.

    ``entries``: the job's entry script and the modules it dispatches to; their import closure is
    digested whole. ``function``: ``(file, name)`` of one function the job calls in a file whose
    other functions it does not run; that function, what it depends on in its file (see
    :func:`function_nodes`) and the closure of that file's imports are digested instead of the
    whole file.
    """
    files = closure(entries)
    parts: list[tuple[str, bytes]] = []
    if function is not None:
        path, name = Path(function[0]).resolve(), function[1]
        nodes = function_nodes(path, name)
        files = sorted(set(files) | set(closure(imported_files(path, nodes))) - {path})
        parts.append((f"{path.name}:{name}", _dump(nodes)))
    root = PACKAGE_DIR.parent
    for file in files:
        label = str(file.relative_to(root)) if file.is_relative_to(root) else file.name
        parts.append((label, _dump(_tree(file).body)))
    hasher = hashlib.sha256()
    for label, dumped in sorted(parts):
        hasher.update(label.encode() + b"\0" + dumped + b"\0")
    return hasher.hexdigest()[:16]
