"""Which demonstration cells `grader grade` may leave out: those nothing graded depends on.

The instructors' notebooks tag the cells that only show something (a figure, a printed
table, the trained model's confusions) "demonstration". Grading runs a submitted cell that
is such a cell, unchanged, only when a later cell that does run (an answer, a test, any
other cell) reads a name it assigns: read backwards through the notebook, by symtable.
A demonstration that only changes an object in place (``model.fit(...)``) is invisible to
that reading, which is why only the instructors' tag, never a student's, marks one.
Notebook 04 spent about 11 s of its 20 s of grading-time cells in such cells (measured:
19.6 s with them, 8.4 s without).
"""

from __future__ import annotations

from IPython.core.inputtransformer2 import TransformerManager

from grader.batch.cell_names import global_names

TAG = "demonstration"
NOTE = (
    "not run while grading: a demonstration that no answer or test depends on "
    "(run the notebook to see it)"
)


def demonstration_sources(notebook) -> frozenset[str]:
    """The sources of the cells the instructors' notebook tags as demonstrations."""
    return frozenset(
        c.source
        for c in notebook.cells
        if c.cell_type == "code" and TAG in c.get("metadata", {}).get("tags", [])
    )


def left_out(sources: list[str], demonstrations: frozenset[str]) -> set[int]:
    """Of a submitted notebook's code cells' sources, in order (graded tests included), the
    indices of those grading leaves out: demonstrations whose names no later cell reads."""
    needed: set[str] = set()
    everything = False  # a cell that does not parse might read any name
    skipped: set[int] = set()
    transform = TransformerManager().transform_cell
    for index in reversed(range(len(sources))):
        source = sources[index]
        try:
            read, written = global_names(transform(source))
        except (SyntaxError, ValueError):
            everything = True
            continue
        if source in demonstrations and not everything and not (written & needed):
            skipped.add(index)
            continue
        needed.update(read)
    return skipped
