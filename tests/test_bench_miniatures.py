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
