"""nbgrader's configuration for this course (read by every nbgrader command run here).

nbgrader's own folder names are mapped onto ours: the instructors' sources live in
solutions/, the generated student versions in notebooks/. One assignment per notebook:
solutions/01_pooling/01_pooling.ipynb -> notebooks/01_pooling/01_pooling.ipynb.
"""

from grader.grading import KERNEL_ARGUMENTS

c = get_config()  # noqa: F821 (provided by traitlets when nbgrader loads this file)

c.CourseDirectory.course_id = "cnn-course"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "notebooks"

# nbgrader's default is 30 s per cell. Importing TensorFlow alone takes several seconds on a
# 2-core machine, and later notebooks train models in a cell, so allow 10 minutes a cell.
c.Execute.timeout = 600

# Graded kernels keep TensorFlow's C-level logs and Python warnings out of test cells, which
# nbgrader would otherwise score 0 for writing to stderr (see grader/grading.py).
c.Execute.extra_arguments = list(KERNEL_ARGUMENTS)

# Student-facing stub left in place of every "### BEGIN SOLUTION ... ### END SOLUTION" block.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}

# Autograde copies every non-notebook file of solutions/<assignment>/ over the student's
# files. A weights file left there by running the solution notebook would then replace each
# student's submitted weights: never overwrite those. (`grader release` also refuses to
# generate a release while such a file sits in solutions/, since it would ship to students.)
c.Autograde.exclude_overwriting = {
    "03_lenet5": ["lenet5.weights.h5"],
    "04_alexnet": ["cifar_alexnet.weights.h5"],
}
