# Two commands do everything on a fresh machine:
#   make demo   build the student release, autograde the example submissions, print the grades
#   make test   run the default test suite (7 minutes on 2 cores, measured 2026-11-22)
# CI runs `make test-all`: the default suite, the long end-to-end runs and the hostile class.
# Both create the virtual environment in .venv on first use.

PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-all sweep release book formgrader lint bench clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/grader demo

test: $(STAMP)
	$(BIN)/python -m pytest -m "not hostile_class and not long" $(PYTEST_ARGS)

# Everything, the long runs and the hostile class included (32-45 minutes on 2 cores): what
# .ci/run runs.
test-all: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The reference sweep at full size: every check's hidden part, 2,000 draws per check, on four
# emulated platforms (about 5 minutes each on 2 cores; `make test` runs 200 draws).
sweep: $(STAMP)
	CNN_COURSE_SWEEP_DRAWS=2000 $(BIN)/python -m pytest -s tests/test_reference_sweep.py

release: $(STAMP)
	$(BIN)/grader release

# The reader's edition: the solutions executed, as a static site in build/book/html
# (`grader book --with-solutions` for the instructors' edition).
book: $(STAMP)
	$(BIN)/grader book

# nbgrader's formgrader (manual grading, the gradebook) in JupyterLab on this course.
formgrader: $(STAMP)
	$(BIN)/grader formgrader

bench: $(STAMP)
	$(BIN)/python bench/lenet5.py
	$(BIN)/python bench/cifar_alexnet.py
	$(BIN)/python bench/core_scaling.py
	$(BIN)/python bench/class_grading.py

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check grader tests bench

clean:
	rm -rf build gradebook.db submitted autograded feedback downloaded reports grades.csv
