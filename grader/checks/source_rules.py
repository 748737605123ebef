"""The NumPy-only rule read from a notebook's source, for grading outside the student's kernel.

When a test runs in the checker process, the student's function is a stand-in that calls
into the kernel (grader/batch/checker.py): there is no code object to inspect, and nothing
the kernel says about its own code can be trusted. So the rule is applied to the notebook's
source instead, with the same reach as ``compare.framework_uses``: the exercise's function,
every name it loads resolved to its definition in the notebook (an import, a function, a
class, an assignment), and those followed in turn. A cell that defines names dynamically
(``exec``, ``globals()``, ...) makes every name unverifiable, which is reported: the static
reading must never pass what it cannot see.
"""

from __future__ import annotations

import ast
import builtins
import symtable
from dataclasses import dataclass, field

from grader.checks.compare import DYNAMIC_ACCESS, FRAMEWORK_MODULES

# Anywhere in the notebook, these bind or fetch names in ways the source does not show.
HIDDEN_BINDING_CALLS = frozenset(
    {"exec", "eval", "compile", "globals", "locals", "vars", "setattr", "__import__"}
)
HIDDEN_BINDING_NAMES = frozenset({"importlib", "import_module", "__builtins__", "__main__"})


@dataclass
class _Definitions:
    """What each top-level name of the notebook is bound to, up to some cell."""

    nodes: dict[str, list[ast.AST]] = field(default_factory=dict)
    dynamic: list[str] = field(default_factory=list)  # statements that bind names unseen

    def add(self, name: str, node: ast.AST) -> None:
        self.nodes.setdefault(name, []).append(node)


def _definitions(cells: list[str]) -> _Definitions:
    found = _Definitions()
    for number, source in enumerate(cells, start=1):
        try:
            tree = ast.parse(_without_magics(source))
        except SyntaxError:
            continue  # a cell that cannot run defines nothing
        for statement in tree.body:
            _bind(statement, found)
            for node in ast.walk(statement):
                hidden = _hidden_binding(node)
                if hidden:
                    found.dynamic.append(f"cell {number}: {hidden}")
    return found


def _hidden_binding(node: ast.AST) -> str | None:
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in HIDDEN_BINDING_CALLS
    ):
        return f"{node.func.id}()"
    if isinstance(node, ast.Name) and node.id in HIDDEN_BINDING_NAMES:
        return node.id
    if isinstance(node, ast.Import | ast.ImportFrom):
        modules = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module]
        hidden = [
            m for m in modules if m and m.split(".")[0] in ("importlib", "__main__", "builtins")
        ]
        return f"import {hidden[0]}" if hidden else None
    sys_modules = (
        isinstance(node, ast.Attribute)
        and node.attr == "modules"
        and isinstance(node.value, ast.Name)
        and node.value.id == "sys"
    )
    if sys_modules or (isinstance(node, ast.Attribute) and node.attr == "__dict__"):
        return ast.unparse(node)
    return None


def _without_magics(source: str) -> str:
    """IPython's %magics and !shell lines are not Python; they define no names here."""
    return "\n".join(
        "pass" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()
    )


def _bind(statement: ast.stmt, found: _Definitions) -> None:
    if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        found.add(statement.name, statement)
    elif isinstance(statement, ast.Import | ast.ImportFrom):
        for alias in statement.names:
            if alias.name == "*":
                found.dynamic.append(f"from {statement.module} import *")
            else:
                found.add((alias.asname or alias.name).split(".")[0], statement)
    elif isinstance(statement, ast.Assign | ast.AugAssign | ast.AnnAssign):
        targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
        for target in targets:
            for node in ast.walk(target):
                if isinstance(node, ast.Name):
                    found.add(node.id, statement)
    else:  # for/with/if/try at top level: whatever they bind, with the whole statement,
        # except an import, which binds its name to its module whatever surrounds it (the
        # setup cell imports Keras inside `with tensorflow_runtime_log_hidden():`)
        for node in ast.walk(statement):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                found.add(node.id, statement)
            elif isinstance(node, ast.FunctionDef | ast.ClassDef):
                found.add(node.name, statement)
            elif isinstance(node, ast.Import | ast.ImportFrom):
                for alias in node.names:
                    found.add((alias.asname or alias.name).split(".")[0], node)


def _called_name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _imports_of(node: ast.AST) -> list[str]:
    """The modules an import statement (anywhere in ``node``) brings in."""
    modules = []
    for inner in ast.walk(node):
        if isinstance(inner, ast.Import):
            modules += [alias.name for alias in inner.names]
        elif isinstance(inner, ast.ImportFrom) and inner.module:
            modules.append(inner.module)
    return modules


def _global_names(node: ast.AST) -> set[str]:
    """The notebook-level names ``node`` reads: Python's own scope rules (symtable), so a
    parameter or local variable that shares a name with a global is not the global."""
    names: set[str] = set()
    tables = [symtable.symtable(ast.unparse(node), "<cell>", "exec")]
    top = True
    while tables:
        table = tables.pop()
        for symbol in table.get_symbols():
            if symbol.is_referenced() and (top or symbol.is_global()):
                names.add(symbol.get_name())
        tables.extend(table.get_children())
        top = False
    return names


def framework_uses_in_source(cells: list[str], name: str) -> list[str]:
    """How the function ``name``, as the notebook's ``cells`` define it, reaches a framework
    or modules indirectly; the same findings as ``compare.framework_uses``."""
    definitions = _definitions(cells)
    if definitions.dynamic:
        return [
            f"{name}: the notebook binds names in ways its source does not show "
            f"({', '.join(definitions.dynamic[:3])})"
        ]
    if name not in definitions.nodes:
        return []  # not defined at all: calling it fails on its own
    found: list[str] = []
    seen: set[int] = set()
    queue = [(node, name) for node in definitions.nodes[name]]
    while queue:
        node, path = queue.pop(0)
        if id(node) in seen:
            continue
        seen.add(id(node))
        for module in _imports_of(node):
            if module.split(".")[0] in FRAMEWORK_MODULES:
                found.append(f"{path}: import {module}")
        for inner in ast.walk(node):
            called = _called_name(inner)
            if called in DYNAMIC_ACCESS:
                found.append(f"{path}: {called} (reaching modules indirectly)")
        for loaded in sorted(_global_names(node) - set(vars(builtins))):
            for definition in definitions.nodes.get(loaded, []):
                if isinstance(definition, ast.Import | ast.ImportFrom):
                    framework = _framework_bound(definition, loaded)
                    if framework:
                        found.append(f"{path}: {loaded} is from {framework}")
                elif definition is not node:
                    label = getattr(definition, "name", loaded)
                    queue.append((definition, f"{path} -> {label}"))
    return list(dict.fromkeys(found))


def _framework_bound(statement: ast.Import | ast.ImportFrom, name: str) -> str | None:
    """The framework this import statement binds ``name`` to, if any (``import numpy as np,
    keras`` binds both names, but only ``keras`` to a framework)."""
    for alias in statement.names:
        if (alias.asname or alias.name).split(".")[0] == name:
            module = alias.name if isinstance(statement, ast.Import) else statement.module or ""
            root = module.split(".")[0]
            return root if root in FRAMEWORK_MODULES else None
    return None
