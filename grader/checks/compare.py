"""Compare a student's answers with the oracle's, and name the mistake that explains them.

A *mistake* is a labelled function that computes what a plausible wrong implementation
would return for the same input (from the verified oracle, with one setting changed). When
the student's answers equal a mistake's, on the failing case and on every other case of the
check, that mistake's label is the likely cause (``diagnose``, ``likely_mistake``). Also here:
the rule that a NumPy exercise uses no framework (``assert_numpy_only``) and answer types.
"""

from __future__ import annotations

import builtins
import dis
import functools
import types
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from grader.checks.failure import CheckFailure

# (label, compute) or (label, compute, key): the key names the same mistake across cases
# whose labels word it differently (the stride ignored, or strides=None taken as 1).
Mistake = tuple[str, Callable[[], np.ndarray]] | tuple[str, Callable[[], np.ndarray], str]


def as_array(what: str, got: object) -> np.ndarray:
    try:
        array = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise CheckFailure(
            what, "a NumPy array of numbers", f"{type(got).__name__} ({error})"
        ) from None
    return array


@dataclass
class Answer:
    """One case of a check: what was asked, the student's answer, the oracle's answer, and
    the mistakes that case can reveal (computed only when a diagnosis needs them)."""

    what: str
    got: object
    expected: object
    mistakes_of: Callable[[], Sequence[Mistake]] = tuple

    @functools.cached_property
    def mistakes(self) -> dict[str, tuple[str, Callable[[], object]]]:
        """key -> (label, compute)."""
        return {m[2] if len(m) > 2 else m[0]: (m[0], m[1]) for m in self.mistakes_of()}


def _value(compute: Callable[[], object]) -> np.ndarray | None:
    try:
        return np.asarray(compute(), dtype=np.float64)
    except Exception:  # a mistake that cannot even be computed for this case does not apply
        return None


def _close(a: np.ndarray | None, b: np.ndarray, atol: float, rtol: float) -> bool:
    return a is not None and a.shape == b.shape and bool(np.allclose(a, b, atol=atol, rtol=rtol))


def describe_causes(consistent: list[str], possible: list[str]) -> str | None:
    """The cause line: sure when one mistake explains every answer; all of them when several
    do (this answer cannot tell them apart); hedged when one explains only this answer."""
    if len(consistent) == 1:
        return consistent[0]
    if consistent:
        listed = "; or ".join(consistent)
        return f"one of these (each gives exactly your answers): {listed}"
    if possible:
        listed = "; or ".join(possible)
        return f"possibly {listed} (this explains this case, though not all of your answers)"
    return None


def diagnose(failing: Answer, answers: Sequence[Answer], atol: float, rtol: float) -> str | None:
    """Which mistakes explain the failing answer, preferring those that explain every answer."""
    got = np.asarray(failing.got, dtype=np.float64)
    values = {key: _value(compute) for key, (_, compute) in failing.mistakes.items()}
    label = {key: text for key, (text, _) in failing.mistakes.items()}
    matching = [key for key, value in values.items() if _close(value, got, atol, rtol)]
    if not matching and got.shape != np.shape(failing.expected):
        # Only the shape can be compared: the mistakes that give the same shape.
        matching = [
            key for key, value in values.items() if value is not None and value.shape == got.shape
        ]
        if len(matching) == 1:
            return label[matching[0]]
        return describe_causes([], [label[key] for key in matching])

    def explains(key: str, answer: Answer) -> bool:
        answer_got = np.asarray(answer.got, dtype=np.float64)
        if key in answer.mistakes:
            return _close(_value(answer.mistakes[key][1]), answer_got, atol, rtol)
        # This mistake changes nothing on this case: the answer must be right.
        return _close(np.asarray(answer.expected, dtype=np.float64), answer_got, atol, rtol)

    consistent = [
        key
        for key in matching
        if all(explains(key, answer) for answer in answers if answer is not failing)
    ]
    return describe_causes([label[k] for k in consistent], [label[k] for k in matching])


def assert_answers_match(
    answers: Sequence[Answer], *, atol: float = 1e-5, rtol: float = 1e-5
) -> None:
    """Raise CheckFailure at the first answer that differs from the oracle's (shape, then
    values), naming the mistake that explains it (see ``diagnose``)."""
    for answer in answers:
        answer.got = as_array(answer.what, answer.got)
    for answer in answers:
        expected = np.asarray(answer.expected, dtype=np.float64)
        got = answer.got
        if got.shape != expected.shape:
            raise CheckFailure(
                f"{answer.what}: wrong output shape",
                _shape(expected.shape),
                _shape(got.shape),
                diagnose(answer, answers, atol, rtol),
            )
        if np.allclose(got, expected, atol=atol, rtol=rtol, equal_nan=False):
            continue
        cause = diagnose(answer, answers, atol, rtol)
        if np.isnan(got).any():
            cause = cause or "your output contains NaN (an empty window, or 0/0 in an average?)"
        where = np.unravel_index(
            np.nanargmax(np.abs(np.nan_to_num(got - expected, nan=np.inf))), got.shape
        )
        wrong = int(np.sum(~np.isclose(got, expected, atol=atol, rtol=rtol)))
        raise CheckFailure(
            f"{answer.what}: {wrong} of {got.size} values differ; the first large difference is at index {tuple(map(int, where))}",
            f"{expected[where]:.6g}",
            f"{got[where]:.6g}",
            cause,
        )


def assert_matches(
    what: str,
    got: object,
    expected: np.ndarray,
    mistakes: Sequence[Mistake] = (),
    *,
    atol: float = 1e-5,
    rtol: float = 1e-5,
) -> None:
    """Raise CheckFailure unless ``got`` equals ``expected`` (one case on its own)."""
    assert_answers_match([Answer(what, got, expected, lambda: mistakes)], atol=atol, rtol=rtol)


def output_layout_mistakes(expected: Callable[[], np.ndarray]) -> list[Mistake]:
    """Mistakes in how an (batch, height, width, channels) output array is laid out or
    filled, whatever the operation that fills it: ``expected`` computes the right output."""
    return [
        (
            "one window short along each axis: there are floor((n - k) / s) + 1 windows (or "
            "ceil(n / s) with 'same'); a loop to out - 1, or an end index off by one, drops the last",
            lambda: expected()[:, :-1, :-1],
        ),
        (
            "the last row and column of windows were never computed (left at 0): loop over "
            "range(out), not range(out - 1)",
            lambda: _last_row_and_column_zero(expected()),
        ),
        (
            "the output holds whole numbers: it was created as an integer array (dtype=int, or "
            "zeros_like of an integer array); create it with x's float dtype",
            lambda: np.trunc(expected()),
        ),
        (
            "height and width swapped in the output: out[b, i, j, c] is window row i, column j",
            lambda: expected().transpose(0, 2, 1, 3),
        ),
    ]


def _last_row_and_column_zero(array: np.ndarray) -> np.ndarray:
    array = np.array(array)
    array[:, -1], array[:, :, -1] = 0, 0
    return array


def _shape(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(d) for d in shape) + ")"


# Modules whose use inside a "write it in NumPy" exercise means the student called an oracle
# instead of implementing the operation: the frameworks, and the grader's own oracles.
FRAMEWORK_MODULES = frozenset(
    {"keras", "tensorflow", "tf_keras", "torch", "jax", "jaxlib", "grader"}
)
# Ways to reach a module without naming it in the code.
DYNAMIC_ACCESS = frozenset(
    {
        "__import__",
        "importlib",
        "import_module",
        "eval",
        "exec",
        "compile",
        "modules",
        "__builtins__",
    }
)
_NAME_LOADS = frozenset({"LOAD_GLOBAL", "LOAD_NAME", "LOAD_DEREF", "LOAD_CLASSDEREF"})
_ATTRIBUTE_LOADS = frozenset({"LOAD_ATTR", "LOAD_METHOD"})


def _framework_of(value: object) -> str | None:
    """The framework a value belongs to (a module, a function, a class or an instance)."""
    if isinstance(value, types.ModuleType):
        module = value.__name__
    elif isinstance(value, type | types.FunctionType | types.BuiltinFunctionType):
        module = getattr(value, "__module__", None) or ""
    else:
        module = type(value).__module__ or ""
    root = module.split(".")[0]
    return root if root in FRAMEWORK_MODULES else None


def _student_functions_in(value: object, home: str) -> list[types.FunctionType]:
    """Functions the student wrote that ``value`` stands for (itself, or a class's methods):
    those defined where the exercise was (module ``home``, the notebook's ``__main__``), not
    NumPy's or the standard library's."""
    if isinstance(value, types.MethodType):
        value = value.__func__
    if isinstance(value, types.FunctionType) and value.__module__ == home:
        return [value]
    if isinstance(value, type) and value.__module__ == home:
        return [v for v in vars(value).values() if isinstance(v, types.FunctionType)]
    return []


class SourceOnly:
    """A stand-in for a student's function whose code lives elsewhere (in the student's
    kernel, when the checker grades): the rule is read from the notebook's source."""

    def framework_uses(self) -> list[str]:
        raise NotImplementedError

    def call_each(self, calls: list[tuple[tuple, dict]]) -> Iterator:
        raise NotImplementedError

    def observe_training(self, spec: dict) -> dict:
        """grader.checks.fitting.observe_training of the function, where it lives."""
        raise NotImplementedError


def results_of(function: Callable, calls: list[tuple[tuple, dict]]) -> Iterator:
    """``function(*args, **kwargs)`` for each ``(args, kwargs)`` of ``calls``, in order. A
    stand-in for code in the student's kernel runs them all in one round trip (hundreds of
    cases cost one, not hundreds); a function here runs them one at a time. Either way the
    student's exception is raised where its call comes, after the results before it."""
    if isinstance(function, SourceOnly):
        yield from function.call_each(calls)
    else:
        for args, kwargs in calls:
            yield function(*args, **kwargs)


class InstancesElsewhere:
    """A stand-in for a student's layer class whose instances live elsewhere (in the
    student's kernel, when the checker grades)."""

    @classmethod
    def results_of_each(cls, calls: list[tuple[dict, str, tuple]]) -> Iterator:
        raise NotImplementedError


# The methods a check may call on a new instance of the student's layer in one round trip.
LAYER_METHODS = ("__call__", "compute_output_shape")


def layer_results(layer_class: type, calls: list[tuple[dict, str, tuple]]) -> Iterator:
    """``layer_class(**settings).<method>(*args)`` for each ``(settings, method, args)`` of
    ``calls``, each on a new layer, in order; ``method`` is one of :data:`LAYER_METHODS`. A
    stand-in for a class in the student's kernel makes and calls them all in one round
    trip; a class here one at a time. The student's exception comes where its call does."""
    if isinstance(layer_class, type) and issubclass(layer_class, InstancesElsewhere):
        yield from layer_class.results_of_each(calls)
        return
    for settings, method, args in calls:
        yield call_on_new_layer(layer_class, settings, method, args)


def call_on_new_layer(layer_class: type, settings: dict, method: str, args: tuple):
    """``layer_class(**settings).<method>(*args)``, for a method of :data:`LAYER_METHODS`
    only (here, and in the student's kernel for a stand-in's ``results_of_each``)."""
    if method not in LAYER_METHODS:
        raise ValueError(f"not a layer method a check calls: {method!r}")
    return getattr(layer_class(**settings), method)(*args)


def framework_uses(function: Callable) -> list[str]:
    """How ``function``, or anything of the student's it calls, reaches a framework.

    Follows the code itself, not a name: every global, closure variable and default the
    function loads is resolved to the object it is, and every function or class of the
    student's it reaches is followed in turn (a helper that calls tf.nn is found through the
    exercise that calls the helper). Each finding reads 'pool2d -> helper: tensorflow'.
    """
    if isinstance(function, SourceOnly):
        return function.framework_uses()
    found: list[str] = []
    seen: set[int] = set()
    home = getattr(function, "__module__", "__main__")
    queue: list[tuple[types.FunctionType, str]] = [
        (f, getattr(function, "__name__", "the function"))
        for f in _student_functions_in(function, home)
    ]
    while queue:
        func, path = queue.pop(0)
        if id(func) in seen:
            continue
        seen.add(id(func))
        namespace = {**vars(builtins), **func.__globals__}
        if func.__closure__:
            for name, cell in zip(func.__code__.co_freevars, func.__closure__, strict=True):
                try:
                    namespace[name] = cell.cell_contents
                except ValueError:  # an empty cell
                    continue
        defaults = [*(func.__defaults__ or ()), *(func.__kwdefaults__ or {}).values()]
        values = [("a default argument", v) for v in defaults]
        codes = [func.__code__]
        while codes:
            code = codes.pop()
            codes.extend(c for c in code.co_consts if isinstance(c, types.CodeType))
            for instruction in dis.get_instructions(code):
                name = instruction.argval
                if not isinstance(name, str):
                    continue
                if instruction.opname == "IMPORT_NAME":
                    root = name.split(".")[0]
                    if root in FRAMEWORK_MODULES:
                        found.append(f"{path}: import {name}")
                elif name in DYNAMIC_ACCESS and (
                    instruction.opname in _NAME_LOADS | _ATTRIBUTE_LOADS
                ):
                    found.append(f"{path}: {name} (reaching modules indirectly)")
                elif instruction.opname in _NAME_LOADS and name in namespace:
                    values.append((name, namespace[name]))
        for name, value in values:
            framework = _framework_of(value)
            if framework:
                found.append(f"{path}: {name} is from {framework}")
                continue
            queue.extend((f, f"{path} -> {f.__name__}") for f in _student_functions_in(value, home))
    return list(dict.fromkeys(found))


def assert_numpy_only(function: Callable, exercise: str) -> None:
    """Fail when a NumPy exercise, or any function of the student's it calls, uses a
    deep-learning framework (the oracle itself) or reaches modules indirectly."""
    uses = framework_uses(function)
    if uses:
        raise CheckFailure(
            f"{exercise} must be written with NumPy",
            "NumPy only, in the function and in every helper it calls",
            "; ".join(uses[:3]),
            f"not NumPy only ({'; '.join(uses[:3])}): the check compares your function with "
            "Keras, so calling Keras, TensorFlow, PyTorch, JAX or the grader, directly or in a "
            "helper, would test nothing",
        )


def require_type(what: str, got: object, kind: type | tuple[type, ...], spec: str) -> None:
    """Fail with a clear message when an answer is not of the type the exercise asks for."""
    if not isinstance(got, kind) or isinstance(got, bool):
        raise CheckFailure(
            what,
            spec,
            f"{type(got).__name__}: {_short(got)}",
            f"return {spec}, as the exercise asks",
        )


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _value_or_none(compute: Callable[[], object]) -> object:
    try:
        return compute()
    except Exception:  # a mistaken setting Keras refuses (e.g. a window larger than the map)
        return None


def likely_mistake(case, got, answers, mistakes_of: Callable) -> str | None:
    """The mistake that explains the student's answer ``got`` to ``case``, for checks whose
    answers are numbers or tuples.

    Several mistakes can give the same wrong answer to one case (15 rows, window 2, stride 2
    gives 8 with ceil in 'valid' and with the 'same' formula), so prefer the mistakes that
    also reproduce the student's answers to every other case, right or wrong; name them all
    when several do. ``answers`` is a list of (case, answer); ``mistakes_of(case)`` lists
    (label, compute).
    """
    candidates = list(
        dict.fromkeys(
            label for label, compute in mistakes_of(case) if _value_or_none(compute) == got
        )
    )

    def explains_all(label: str) -> bool:
        for other, answer in answers:
            compute = dict(mistakes_of(other)).get(label)
            if compute is not None and _value_or_none(compute) != answer:
                return False
        return True

    return describe_causes([label for label in candidates if explains_all(label)], candidates)
