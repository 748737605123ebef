"""Grading a whole class: ``grader grade <assignment>``.

The pipeline, one module a step:

- :mod:`~grader.batch.collect`  finds the submissions (a folder, nbgrader's submitted/, LMS zips)
- :mod:`~grader.batch.sanitize` restores test cells from the gradebook and records tampering
  (trusted, central)
- :mod:`~grader.batch.execute`  runs one submission's notebooks in a fresh workspace: the pure
  task that a process pool or a Dask cluster runs (:mod:`~grader.batch.sandbox` bounds and
  isolates its kernel); the graded test cells never enter that kernel:
  :mod:`~grader.batch.checking` runs them in the checker (:mod:`~grader.batch.checker`, a
  process of its own), which reaches the student's answers only through the agent
  (:mod:`~grader.batch.agent`) as plain data (:mod:`~grader.batch.transport`)
- :mod:`~grader.batch.gradebook` saves scores into the one gradebook (central, one writer)
- :mod:`~grader.batch.feedback` writes students' feedback without hidden tests
- :mod:`~grader.batch.report`   writes the instructor's HTML report
- :mod:`~grader.batch.runner`   ties them together, with the progress bar and summary
"""
