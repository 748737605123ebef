"""Every "likely cause" the checks can print, read from their source.

A cause reaches a student through one of a few doors, and this module finds each door in
``grader/checks`` by reading the code (an AST walk), not by a list kept by hand that could
fall behind:

- a mistake: a tuple ``(label, lambda: ..., [key])`` whose label is the cause when the
  student's answer equals what the lambda computes;
- the fourth argument of ``CheckFailure(what, expected, got, cause)``;
- a hint in a ``*HINTS`` dictionary (``compare_models`` prints it for a layer that differs).

A label may be a string, an f-string (its formatted parts match anything), a conditional
(both branches), a name assigned in the same function, or a call of a function of the same
module (its returned strings). Calls into the diagnosis machinery (``likely_mistake``,
``diagnose``, ``describe_causes``, ``hints.get``) only pass on labels found at the other
doors, so they add nothing here.

Each cause becomes a regular expression; tests/test_answer_corpus.py asserts that every one
of them is printed for at least one answer of the corpus.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

CHECKS = Path(__file__).resolve().parents[1] / "grader" / "checks"
# Causes that pass on labels found elsewhere.
RELAYS = {"likely_mistake", "diagnose", "describe_causes", "get"}


@dataclass(frozen=True)
class Cause:
    module: str
    line: int
    pattern: str  # a regular expression

    def __str__(self) -> str:
        readable = re.sub(r"\\(.)", r"\1", self.pattern).replace(".+?", "…")
        return f"{self.module}:{self.line}: {readable}"


def _patterns(expr: ast.expr, scope: dict[str, list[ast.expr]], functions: dict) -> list[str]:
    if isinstance(expr, ast.Constant):
        return [re.escape(expr.value)] if isinstance(expr.value, str) and expr.value else []
    if isinstance(expr, ast.JoinedStr):
        return [
            "".join(
                re.escape(part.value) if isinstance(part, ast.Constant) else ".+?"
                for part in expr.values
            )
        ]
    if isinstance(expr, ast.IfExp):
        return _patterns(expr.body, scope, functions) + _patterns(expr.orelse, scope, functions)
    if isinstance(expr, ast.BoolOp):
        return [p for value in expr.values for p in _patterns(value, scope, functions)]
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
        left, right = (_patterns(side, scope, functions) for side in (expr.left, expr.right))
        return [a + b for a in left or [".+?"] for b in right or [".+?"]]
    if isinstance(expr, ast.Name):
        values = scope.get(expr.id, [])
        rest = {name: v for name, v in scope.items() if name != expr.id}  # no cycles
        return [p for value in values for p in _patterns(value, rest, functions)]
    if isinstance(expr, ast.Dict):  # a hints dictionary: its values, ** entries included
        return [p for value in expr.values for p in _patterns(value, scope, functions)]
    if isinstance(expr, ast.Subscript):  # {"max": "...", ...}[mode]: any of the values
        return _patterns(expr.value, scope, functions)
    if isinstance(expr, ast.DictComp):
        return _patterns(expr.value, scope, functions)
    if isinstance(expr, ast.Call):
        name = getattr(expr.func, "id", getattr(expr.func, "attr", None))
        if name in functions:
            return functions[name]
        if name in RELAYS:
            return []
    raise ValueError(f"cannot read a cause from {ast.unparse(expr)!r} (line {expr.lineno})")


def _assignments(function: ast.AST) -> dict[str, list[ast.expr]]:
    found: dict[str, list[ast.expr]] = {}
    for node in ast.walk(function):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    found.setdefault(target.id, []).append(node.value)
    return found


def _returned_strings(function: ast.FunctionDef) -> list[str]:
    scope = _assignments(function)
    patterns = []
    for node in ast.walk(function):
        if isinstance(node, ast.Return) and node.value is not None:
            try:
                patterns += _patterns(node.value, scope, {})
            except ValueError:
                continue  # returns something else too (a computed value); its strings count
    return patterns


def _sites(function: ast.AST):
    """(line, label expression) of every door in ``function``'s own body."""
    for node in ast.walk(function):
        if (
            isinstance(node, ast.Tuple)
            and len(node.elts) in (2, 3)
            and isinstance(node.elts[1], ast.Lambda)
            # a mistake's compute takes no argument (only defaults that bind the case)
            and len(node.elts[1].args.args) == len(node.elts[1].args.defaults)
        ):
            yield node.lineno, node.elts[0]
        if (
            isinstance(node, ast.Call)
            and getattr(node.func, "id", None) == "CheckFailure"
            and len(node.args) >= 4
        ):
            yield node.lineno, node.args[3]


def causes_in(path: Path) -> list[Cause]:
    tree = ast.parse(path.read_text())
    constants = {
        target.id: [node.value]
        for node in tree.body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    helpers = {
        node.name: _returned_strings(node)
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and node.name.startswith("_")
    }
    found: list[Cause] = []
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict):
            names = [t.id for t in node.targets if isinstance(t, ast.Name)]
            if any(name.endswith("HINTS") for name in names):
                found += [
                    Cause(path.name, value.lineno, pattern)
                    for value in node.value.values
                    for pattern in _patterns(value, constants, helpers)
                ]
        functions = [n for n in ast.walk(node) if isinstance(n, ast.FunctionDef)]
        for function in functions:
            scope = {**constants, **_assignments(function)}
            for line, label in _sites(function):
                found += [Cause(path.name, line, p) for p in _patterns(label, scope, helpers)]
    # Nested functions are walked twice; a pattern without a word of its own (f"{a}: {b}")
    # passes on text made elsewhere.
    return [c for c in dict.fromkeys(found) if re.search(r"[A-Za-z]{3}", c.pattern)]


def all_causes() -> list[Cause]:
    return [cause for path in sorted(CHECKS.glob("*.py")) for cause in causes_in(path)]
