"""What a graded notebook prints is bounded, per cell and for the whole notebook, so that no
student's output fills the grader's memory, its disk or a feedback page (what nbclient keeps
while `grader grade` runs the student's cells)."""

from __future__ import annotations

import nbformat

from grader.batch.execute import _BoundedClient


def _printed(client, cell_index: int, text: str, outs: list) -> None:
    message = {
        "msg_type": "stream",
        "header": {"msg_type": "stream"},
        "parent_header": {"msg_id": "m"},
        "content": {"name": "stdout", "text": text},
    }
    client.output(outs, message, None, cell_index)


def _client(cell_limit: int, notebook_limit: int) -> _BoundedClient:
    client = _BoundedClient(nbformat.v4.new_notebook())
    client.reset_execution_trackers()  # what nbclient does before a notebook runs
    client.clear_before_next_output = False  # ... and before each cell
    client.limit, client.notebook_limit = cell_limit, notebook_limit
    return client


def test_a_cell_keeps_its_output_up_to_its_limit_then_says_it_was_cut_once():
    client, outs = _client(10_000, 1_000_000), []
    for _ in range(100):
        _printed(client, 0, "x" * 1000, outs)
    kept = [o for o in outs if "output cut" not in o.text]
    notes = [o.text for o in outs if "output cut" in o.text]
    assert 5 <= len(kept) <= 10
    assert notes == ["\n[output cut: this cell printed more than 9 KiB]\n"]


def test_a_notebook_keeps_its_output_up_to_its_limit_across_cells_and_says_so_once():
    client, outs_by_cell = _client(10_000, 50_000), {}
    for cell in range(1000):  # many cells, each well within its own limit
        _printed(client, cell, "y" * 1000, outs_by_cell.setdefault(cell, []))
    outs = [o for cell in sorted(outs_by_cell) for o in outs_by_cell[cell]]
    kept = sum(len(o.text) for o in outs if "output cut" not in o.text)
    notes = [o.text for o in outs if "output cut" in o.text]
    assert 40_000 <= kept <= 50_000
    assert notes == ["\n[output cut: this notebook printed more than 48 KiB]\n"]
