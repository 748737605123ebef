"""The course's shared code: datasets, reproducibility, Keras-oracle checks, figures, grading.

Notebooks import from here so that every notebook loads data, seeds and checks answers
the same way, and so that the grading logic lives in tested Python, not in notebook cells.
"""

__version__ = "0.1.0"
