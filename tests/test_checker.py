"""The checker runs the notebooks' test cells outside the student's process: the student's
names are stand-ins that reach the student's namespace only through plain data.

Here the "kernel" is a namespace in this process, reached through the same encoding and the
same agent code as in grading (a loopback channel), so the whole protocol is exercised in
seconds; tests/test_class_grading.py runs it across real processes and sandboxes.
"""

from __future__ import annotations

import functools
import io

import keras
import numpy as np
import pytest

from grader.batch import agent, transport
from grader.batch.checker import Checker, free_names
from grader.course import REPO_ROOT
from grader.notebook_cells import graded_cells, load_answers, read

NOTEBOOKS = ("01_pooling", "02_padding", "03_lenet5", "04_alexnet")


class LoopbackChannel:
    """The checker's channel, answered by the agent over a namespace of this process."""

    def __init__(self, namespace: dict):
        self.namespace, self.requests = namespace, []

    def request(self, header, args=(), kwargs=None):
        blobs: list[bytes] = []
        document = {
            **header,
            "args": transport.encode(tuple(args), blobs),
            "kwargs": transport.encode(dict(kwargs or {}), blobs),
        }
        self.requests.append(header["op"])
        out: list[bytes] = []
        reply = agent.answer(document, blobs, self.namespace, out)
        if "error" in reply:
            from grader.batch.checker import _student_exception

            raise _student_exception(reply)
        return transport.decode(reply["value"], out)


@functools.cache
def _solution(notebook: str):
    path = REPO_ROOT / "solutions" / notebook / f"{notebook}.ipynb"
    nb = read(path)
    setup = next(
        c.source
        for c in nb.cells
        if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "setup"
    )
    cells = [c.source for c in nb.cells if c.cell_type == "code"]
    return setup, graded_cells(nb), cells


def checker_for(notebook: str, student_namespace: dict) -> tuple[Checker, LoopbackChannel]:
    setup, _, _ = _solution(notebook)
    channel = LoopbackChannel(student_namespace)
    checker = Checker(channel)
    verdict = checker.setup(setup)
    assert verdict["passed"], verdict
    return checker, channel


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_the_reference_answers_pass_every_test_through_the_checker(notebook):
    _, tests, cells = _solution(notebook)
    answers = load_answers(REPO_ROOT / "solutions" / notebook / f"{notebook}.ipynb")
    checker, channel = checker_for(notebook, answers)
    for grade_id, cell in tests.items():
        if grade_id == "test_accuracy":
            continue  # needs trained weights: tests/test_grading_chain.py grades those
        verdict = checker.test(cell.source, grade_id, cells)
        assert verdict["passed"], f"{grade_id}: {verdict}"
        assert "✓" in verdict["output"]
    # the student's answers were reached through the kernel, not found in this process
    assert "describe" in channel.requests
    assert {"call", "call_each", "new_each"} & set(channel.requests)
    if notebook in ("03_lenet5", "04_alexnet"):  # the student's compile and fit ran in the kernel
        assert "observe_training" in channel.requests


def test_a_wrong_answer_fails_with_its_cause():
    """(That the student's tricks, such as a patched numpy, stay in the student's process is
    shown across real processes by tests/test_class_grading.py.)"""
    _, tests, cells = _solution("01_pooling")
    answers = dict(load_answers(REPO_ROOT / "solutions" / "01_pooling" / "01_pooling.ipynb"))
    exec(
        "def pool2d(x, pool_size, strides=None, padding='valid', mode='max'):\n"
        "    return np.zeros((1, 1, 1, 1))\n",
        answers,
    )
    checker, _ = checker_for("01_pooling", answers)
    verdict = checker.test(tests["test_pool2d_valid"].source, "test_pool2d_valid", cells)
    assert not verdict["passed"] and verdict["ename"] == "CheckFailure"
    assert "wrong output shape" in verdict["evalue"]


def test_the_numpy_only_rule_is_read_from_the_notebooks_source():
    _, tests, cells = _solution("01_pooling")
    answers = dict(load_answers(REPO_ROOT / "solutions" / "01_pooling" / "01_pooling.ipynb"))
    helper = (
        "def _window_max(x, k, s):\n"
        "    return keras.layers.MaxPooling2D(k, s)(x).numpy()\n"
        "def pool2d(x, pool_size, strides=None, padding='valid', mode='max'):\n"
        "    return _window_max(x, pool_size, strides)\n"
    )
    exec(helper, answers)
    checker, _ = checker_for("01_pooling", answers)
    verdict = checker.test(tests["test_pool2d_valid"].source, "test_pool2d_valid", [*cells, helper])
    assert not verdict["passed"]
    assert "pool2d -> _window_max: keras is from keras" in verdict["evalue"]


def test_a_missing_answer_says_which_cell_to_run():
    _, tests, cells = _solution("01_pooling")
    checker, _ = checker_for("01_pooling", {})
    verdict = checker.test(tests["test_pool2d_valid"].source, "test_pool2d_valid", cells)
    assert verdict["ename"] == "NameError" and "run the cell that defines it" in verdict["evalue"]


def test_a_checks_cases_reach_the_kernel_in_one_round_trip():
    """pool_output_shape is called on every visible and hidden case: one request per check
    (the test cell runs the visible check, then the hidden one), not one per case."""
    _, tests, cells = _solution("01_pooling")
    answers = load_answers(REPO_ROOT / "solutions" / "01_pooling" / "01_pooling.ipynb")
    checker, channel = checker_for("01_pooling", answers)
    source = tests["test_pool_output_shape"].source
    assert checker.test(source, "test_pool_output_shape", cells)["passed"]
    assert channel.requests == ["describe", "call_each", "call_each"]


def test_a_layer_checks_cases_reach_the_kernel_in_one_round_trip_each():
    """MinPooling2D is made and called on every case in one request, and asked for its
    output shapes in another, for the visible and the hidden check: not one per case."""
    _, tests, cells = _solution("01_pooling")
    answers = load_answers(REPO_ROOT / "solutions" / "01_pooling" / "01_pooling.ipynb")
    checker, channel = checker_for("01_pooling", answers)
    source = tests["test_min_pooling_layer"].source
    assert checker.test(source, "test_min_pooling_layer", cells)["passed"]
    assert channel.requests.count("new_each") == 4
    assert len(channel.requests) < 25


def test_a_layer_that_fails_on_one_case_fails_there():
    from grader.batch.checker import remote_layer_class

    class Halving(keras.layers.Layer):
        def __init__(self, factor=2):
            super().__init__()
            self.factor = factor

        def call(self, x):
            if self.factor == 3:
                raise ValueError("odd")
            return x / self.factor

    remote = remote_layer_class(LoopbackChannel({"Halving": Halving}), "Halving", False)
    x = np.ones((1, 2, 2, 1), np.float32)
    calls = [({"factor": f}, "__call__", (x,)) for f in (2, 4, 3, 8)]
    results = remote.results_of_each(calls)
    assert float(next(results).max()) == 0.5 and float(next(results).max()) == 0.25
    with pytest.raises(ValueError, match="odd"):
        next(results)
    with pytest.raises(ValueError, match="not a layer method"):
        list(remote.results_of_each([({}, "__reduce__", ())]))


def test_the_students_exception_comes_at_its_case_after_the_results_before_it():
    from grader.batch.checker import RemoteFunction

    def halve(n):
        if n == 3:
            raise ValueError("odd")
        return n // 2

    remote = RemoteFunction(LoopbackChannel({"halve": halve}), "halve", [])
    results = remote.call_each([((2,), {}), ((4,), {}), ((3,), {}), ((8,), {})])
    assert next(results) == 1 and next(results) == 2
    with pytest.raises(ValueError, match="odd"):
        next(results)


class DroppingChannel:
    """A kernel whose agent was tampered with: it answers fewer calls than were asked."""

    def request(self, header, args=(), kwargs=None):
        return {"values": [(1, 1, 1)], "failure": None}


def test_a_kernel_that_answers_fewer_cases_than_asked_is_refused():
    """Otherwise a check's zip would end early and skip the cases the answer gets wrong."""
    from grader.batch.checker import RemoteFunction, StudentCodeError

    remote = RemoteFunction(DroppingChannel(), "pool_output_shape", [])
    with pytest.raises(StudentCodeError, match="did not match the grader's request"):
        list(remote.call_each([((1,), {}), ((2,), {})]))


def test_only_the_students_names_become_stand_ins():
    assert free_names("check.check_pool2d(pool2d, seed=None)\nx = len(pool2d)", {"check": 1}) == [
        "pool2d"
    ]


def test_a_lambdas_parameters_are_not_the_students_names():
    """Notebooks 03 and 04 pass ``train=lambda model: ...``: ``model`` is the lambda's own."""
    source = (
        "check.check_accuracy(build_cifar_alexnet, check.WEIGHTS_FILE, x_test=x_test,\n"
        "    train=lambda model: train_from_scratch(lambda: model, x_train, y_train, seed=SEED))\n"
        "scores = [s for s in history if s > best]"
    )
    defined = {"check": 1, "train_from_scratch": 1, "SEED": 1}
    assert sorted(free_names(source, defined)) == [
        "best", "build_cifar_alexnet", "history", "x_test", "x_train", "y_train"
    ]  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("notebook", ["03_lenet5", "04_alexnet"])
def test_the_accuracy_test_passes_the_reference_weights_through_the_checker(
    notebook, tmp_path, monkeypatch
):
    """The example students' reference weights (trained once, cached in build/) against the
    notebook's own accuracy test, run by the checker with the student's builder remote."""
    import shutil

    from grader import example_weights

    spec = example_weights.BY_ASSIGNMENT[notebook]
    shutil.copy(example_weights.weights_for(notebook, "reference"), tmp_path / spec.file_name)
    monkeypatch.chdir(tmp_path)
    _, tests, cells = _solution(notebook)
    answers = load_answers(REPO_ROOT / "solutions" / notebook / f"{notebook}.ipynb")
    checker, channel = checker_for(notebook, answers)
    verdict = checker.test(tests["test_accuracy"].source, "test_accuracy", cells)
    assert verdict["passed"], verdict
    assert "new" in channel.requests or "call" in channel.requests


# -- the transport ------------------------------------------------------------------------


def roundtrip(value, **options):
    blobs: list[bytes] = []
    return transport.decode(transport.encode(value, blobs), blobs, **options)


def test_plain_data_keeps_its_types():
    value = {
        "shape": (3, 4, 5),
        "list": [1, 2.5, None, "s", True],
        "array": np.arange(6, dtype=np.float32).reshape(2, 3),
        "scalar": np.float32(1.5),
        "big": 2**70,
        "nan": float("nan"),
    }
    back = roundtrip(value)
    assert back["shape"] == (3, 4, 5) and isinstance(back["shape"], tuple)
    assert back["list"] == [1, 2.5, None, "s", True]
    assert back["array"].dtype == np.float32 and np.array_equal(back["array"], value["array"])
    assert isinstance(back["scalar"], np.float32) and back["big"] == 2**70
    assert np.isnan(back["nan"])


def test_objects_never_travel_only_their_type_name():
    class Sneaky:
        def __array__(self, *args, **kwargs):
            raise AssertionError("never called on the checker's side")

    assert repr(roundtrip(Sneaky())) == "<a Sneaky object>"
    assert repr(roundtrip(np.array([object()]))) == "<a numpy array of Python objects object>"


def test_a_pickled_array_is_refused():
    buffer = io.BytesIO()
    np.save(buffer, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match="pickle"):
        transport.decode({"__array__": 0}, [buffer.getvalue()])


def test_unknown_tags_and_layers_from_the_student_are_refused():
    with pytest.raises(transport.TransportError):
        transport.decode({"__code__": "import os"}, [])
    layer = keras.layers.Dense(3)
    with pytest.raises(transport.TransportError):
        roundtrip(layer)  # the checker never rebuilds a layer it is sent


def test_a_model_comes_back_in_safe_mode_and_one_with_code_is_refused_with_why():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    back = roundtrip(model)
    x = np.ones((1, 4), np.float32)
    assert np.allclose(back(x), model(x))
    with_code = keras.Sequential([keras.Input((4,)), keras.layers.Lambda(lambda t: t * 2)])
    with pytest.raises(transport.ModelRebuildError, match="Lambda layer"):
        roundtrip(with_code)


def test_oversized_messages_are_refused():
    stream = io.BytesIO((transport.MAX_MESSAGE_BYTES + 1).to_bytes(8, "little"))
    with pytest.raises(transport.TransportError):
        transport.read_message(stream)


def test_a_checker_stopped_at_a_tests_time_limit_is_replaced_before_the_next_test(tmp_path):
    """A real checker process (sandboxed where bubblewrap works): the endless test is killed
    at its limit and says so; the next test runs in a fresh checker, set up again."""
    from grader.batch.checking import CheckerProcess
    from grader.batch.execute import grading_environment
    from grader.batch.limits import Limits
    from grader.batch.sandbox import Sandbox, bubblewrap_problem, readable_paths

    sandbox = Sandbox(bubblewrap_problem() is None, Limits(), readable_paths())
    checker = CheckerProcess(sandbox, Limits(), grading_environment())
    try:
        assert checker.setup("import time\nSET_UP = True", 120)["passed"]
        endless = checker.test("while True:\n    time.sleep(0.01)", "endless", [], None, 3)
        assert endless["ename"] == "TimeoutError" and "3 s" in endless["evalue"]
        after = checker.test("assert SET_UP\nprint('ran')", "after", [], None, 120)
        assert after == {"passed": True, "output": "ran\n"}
        assert checker.restarts == 1
    finally:
        checker.close()
    assert checker.process.returncode is not None


def test_a_worker_keeps_its_checker_for_the_next_notebook_and_starts_it_clean(tmp_path):
    """One checker process per worker (TensorFlow imported once), yet each notebook begins
    with nothing of the last one: no names, no files in its folder, no Keras layer names."""
    from grader.batch.checking import close_kept_checker, kept_checker
    from grader.batch.execute import grading_environment
    from grader.batch.limits import Limits
    from grader.batch.sandbox import Sandbox, bubblewrap_problem, readable_paths

    sandbox = Sandbox(bubblewrap_problem() is None, Limits(), readable_paths())
    first = kept_checker(sandbox, Limits(), grading_environment())
    try:
        assert first.setup("import keras\nLEFT_BEHIND = 1", 120)["passed"]
        wrote = "open('student.weights.h5', 'wb').write(b'x')\nprint(keras.layers.Dense(1).name)"
        assert first.test(wrote, "write", [], None, 60) == {"passed": True, "output": "dense\n"}
        pid = first.process.pid

        second = kept_checker(sandbox, Limits(), grading_environment())
        assert second is first and second.process.pid == pid
        assert not (second.scratch / "student.weights.h5").exists()
        assert second.setup("import keras, os", 120)["passed"]
        clean = (
            "assert 'LEFT_BEHIND' not in globals()\n"
            "assert not os.path.exists('student.weights.h5')\n"
            "print(keras.layers.Dense(1).name)"
        )
        assert second.test(clean, "clean", [], None, 60) == {"passed": True, "output": "dense\n"}

        other = kept_checker(sandbox, Limits(cell_timeout_s=7), grading_environment())
        assert other is not first and first.process.returncode is not None
    finally:
        close_kept_checker()
        first.close()
