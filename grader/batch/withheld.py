"""What a student's kernel finds, while grading, in place of the modules that hold answers.

The sandbox binds this file over ``grader.checks.exact`` and ``grader.checks.references``
(and their compiled copies) in the kernel's view of the package, so that the student's code
sees the package as the student bundle has it: importing either fails, and the checks fall
back as they do in the bundle. The checker process, which decides grades, sees the real ones.
"""

raise ImportError("this module holds the course's answers: it cannot be imported while grading")
