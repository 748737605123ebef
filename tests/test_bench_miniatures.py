"""The benchmarks that stand behind a notebook's miniature experiment train the notebook's own
network, layer for layer: what bench/README.md reports is about the network students run."""

import ast
import importlib.util

import keras
import pytest

from grader.course import REPO_ROOT, Course
from grader.notebook_cells import read

COURSE = Course()


def notebook_function(assignment, name):
    """A function a solution notebook's cell defines, executed on its own with keras in scope."""
    (path,) = COURSE.solution_notebooks(assignment)
    for cell in read(path).cells:
        if cell.cell_type != "code":
            continue
        for node in ast.parse(cell.source).body:
            if isinstance(node, ast.FunctionDef) and node.name == name:
                scope = {"keras": keras}
                exec(compile(ast.Module([node], []), str(path), "exec"), scope)
                return scope[name]
    raise LookupError(f"{assignment} defines no {name}()")


def bench_function(script, name):
    spec = importlib.util.spec_from_file_location(script, REPO_ROOT / "bench" / f"{script}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, name)


def layer_configs(model):
    configs = []
    for layer in model.layers:
        config = layer.get_config()
        config.pop("name", None)
        configs.append((type(layer).__name__, config))
    return configs


@pytest.mark.parametrize(
    "script, name, arguments",
    [
        ("relu_tanh", "four_layer_cnn", [("relu",), ("tanh",)]),
        (
            "augment_dropout",
            "small_cnn",
            [(False, False), (True, False), (False, True), (True, True)],
        ),
    ],
)
def test_a_benchmark_builds_the_notebooks_network(script, name, arguments):
    in_notebook = notebook_function("04_alexnet", name)
    in_bench = bench_function(script, name)
    for args in arguments:
        assert layer_configs(in_bench(*args)) == layer_configs(in_notebook(*args)), (name, args)


def test_the_cifar_benchmarks_trials_change_only_the_shifts_and_the_dropout_rate(
    alexnet_reference, monkeypatch
):
    """bench/cifar_alexnet.py --choices: the course's network, with random shifts after the
    flip and AlexNet's dropout rate where a trial says so, nothing else changed."""
    monkeypatch.syspath_prepend(str(REPO_ROOT / "bench"))  # it imports recipe_runs beside it
    network_variant = bench_function("cifar_alexnet", "network_variant")
    build = alexnet_reference["build_cifar_alexnet"]
    reference = layer_configs(build())

    assert layer_configs(network_variant(build, shifts=False, dropout=0.3)()) == reference
    trial = layer_configs(network_variant(build, shifts=True, dropout=0.5)())
    kinds = [kind for kind, _ in trial]
    assert kinds[kinds.index("RandomFlip") + 1] == "RandomTranslation"
    assert [config["rate"] for kind, config in trial if kind == "Dropout"] == [0.5, 0.5]
    without = [
        (kind, {**config, "rate": 0.3} if kind == "Dropout" else config)
        for kind, config in trial
        if kind != "RandomTranslation"
    ]
    assert without == reference
