"""A grading kernel's messages: whatever student code prints, the kernel keeps answering."""

import json

import nbformat
from jupyter_client.session import json_packer as jupyter_json_packer
from nbclient import NotebookClient

from grader.grading import KERNEL_ARGUMENTS
from grader.kernel_messages import json_packer


def test_a_message_jupyter_can_pack_is_packed_byte_for_byte_the_same():
    message = {"name": "stdout", "text": "14x14 ✓ \t\n", "n": [1, 2.5, None], "ok": True}
    assert json_packer(message) == jupyter_json_packer(message)


def test_a_lone_surrogate_becomes_a_replacement_character_instead_of_an_error():
    packed = json_packer({"name": "stdout", "text": "a\ud800b\udfffc\n"})
    assert json.loads(packed.decode("utf-8")) == {"name": "stdout", "text": "a\ufffdb\ufffdc\n"}


def test_a_kernel_that_printed_a_lone_surrogate_still_flushes_at_once():
    """Without the grading packer each flush after such a print waits ipykernel's 10 s
    flush timeout: three flushes would run past the cell's 20 s."""
    source = "import sys\nfor _ in range(3):\n    print('\\ud800')\n    sys.stdout.flush()"
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    client = NotebookClient(
        notebook, timeout=20, kernel_name="python3", extra_arguments=list(KERNEL_ARGUMENTS)
    )
    client.execute()
    printed = "".join(o.get("text", "") for o in notebook.cells[0].outputs)
    assert printed == "\ufffd\n" * 3
