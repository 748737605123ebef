"""Keeping a graded test cell honest inside a kernel the student's code has run in.

Student code runs in the same Python process as the tests, so it can replace a check
function (``check.check_pool2d = lambda *a, **k: None``), numpy's comparison helpers, or the
machinery that reports a failure (a custom exception handler), and every test would pass.
Before each graded test cell the grader therefore runs two cells of its own, which the
notebook never contains:

- the **guard** undoes the hooks that can hide a failure (IPython's custom exception
  handler, an instance-level ``showtraceback``, trace and profile functions, ``excepthook``),
  drops every ``grader`` module from ``sys.modules`` and re-runs the setup cell's imports
  from the instructors' source, so the test cell calls checks freshly loaded from disk
  and names like ``check`` and ``np`` are bound as the setup cell binds them;
- the **canary** must fail in a way the grader predicts: it compares different arrays with
  numpy's comparison helpers and the checks' own comparator, then raises an
  ``AssertionError`` carrying a random nonce and the list of helpers that wrongly passed.
  If the error does not arrive, or names a helper, the kernel is not trusted and the test
  cell scores 0 with that explanation.

What this cannot defend against (README, "Limits of in-notebook grading"): code that runs in
the same process can always out-wit code that checks it. A student who installs a trace
function or import hook that recognises the canary, patches C-level state, or edits the
check modules' code objects in place can still forge a pass. The guard and canary stop the
simple replacements listed above; the failure-hiding tricks beyond them leave a trace an
instructor can review (the report lists every cell whose integrity check failed).
"""

from __future__ import annotations

import ast
import secrets

NUMPY_HELPERS = (
    "numpy.allclose",
    "numpy.isclose",
    "numpy.array_equal",
    "numpy.testing.assert_allclose",
    "numpy.testing.assert_array_equal",
    "numpy.testing.assert_array_almost_equal",
    "numpy.testing.assert_equal",
)


def setup_imports(setup_source: str) -> str:
    """The top-level import statements of the source notebook's setup cell."""
    tree = ast.parse(setup_source)
    imports = [node for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom)]
    return "\n".join(ast.unparse(node) for node in imports)


def guard_source(imports: str) -> str:
    return f"""\
def _cnn_course_guard():
    import sys
    shell = get_ipython()
    shell.set_custom_exc((), None)
    for name in ("showtraceback", "_showtraceback", "showsyntaxerror", "run_cell"):
        shell.__dict__.pop(name, None)
    sys.settrace(None)
    sys.setprofile(None)
    sys.excepthook = sys.__excepthook__
    for module in [m for m in sys.modules if m == "grader" or m.startswith("grader.")]:
        del sys.modules[module]
_cnn_course_guard()
del _cnn_course_guard
{imports}
"""


def new_nonce() -> str:
    return f"canary-{secrets.token_hex(8)}"


def canary_source(nonce: str) -> str:
    return f"""\
def _cnn_course_canary():
    import numpy
    import numpy.testing
    from grader.checks.compare import assert_matches
    wrongly_passed = []
    a, b = numpy.zeros(3), numpy.ones(3)
    if numpy.allclose(a, b):
        wrongly_passed.append("numpy.allclose")
    if numpy.any(numpy.isclose(a, b)):
        wrongly_passed.append("numpy.isclose")
    if numpy.array_equal(a, b):
        wrongly_passed.append("numpy.array_equal")
    for name in ("assert_allclose", "assert_array_equal", "assert_array_almost_equal", "assert_equal"):
        try:
            getattr(numpy.testing, name)(a, b)
        except AssertionError:
            pass
        else:
            wrongly_passed.append("numpy.testing." + name)
    try:
        assert_matches("canary", a, b)
    except AssertionError:
        pass
    else:
        wrongly_passed.append("grader.checks.compare.assert_matches")
    return wrongly_passed
raise AssertionError("{nonce}:" + ",".join(_cnn_course_canary()))
"""


def canary_verdict(outputs: list, nonce: str) -> str | None:
    """None when the canary failed exactly as predicted; otherwise what is wrong."""
    errors = [o for o in outputs if o.get("output_type") == "error"]
    for error in errors:
        value = str(error.get("evalue", ""))
        if value.startswith(f"{nonce}:"):
            replaced = [name for name in value.split(":", 1)[1].split(",") if name]
            if not replaced:
                return None
            return (
                "these comparison helpers report different arrays as equal in this kernel, so "
                f"the checks cannot be trusted: {', '.join(replaced)} (replaced by code in the notebook?)"
            )
    return (
        "a failing statement run by the grader did not report its failure in this kernel: "
        "code in the notebook hides errors (a custom exception handler, a patched "
        "traceback display, or a hook), so the test's result cannot be trusted"
    )
