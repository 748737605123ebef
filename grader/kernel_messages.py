"""How a grading kernel packs its messages: text no UTF-8 message can hold is replaced.

ipykernel packs every message with jupyter_client's ``json_packer``, which cannot encode a lone
surrogate (``print('\\ud800')``). The error is raised in the kernel's I/O thread, where it
also drops the event that wakes ``sys.stdout.flush()``: every later flush then waits its full
``flush_timeout`` (10 s), so a student function that prints one ends up past a test's time
limit. Graded kernels use this packer instead (``--Session.packer``, in
``grader.grading.KERNEL_ARGUMENTS``): the same bytes for any message that can be sent, and
U+FFFD for each lone surrogate in one that cannot, which is what the saved notebook shows.
"""

from __future__ import annotations

import json
import re

from jupyter_client.jsonutil import json_default
from jupyter_client.session import json_packer as jupyter_json_packer

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def json_packer(message) -> bytes:
    try:
        return jupyter_json_packer(message)
    except UnicodeEncodeError:
        text = json.dumps(message, default=json_default, ensure_ascii=False, allow_nan=False)
        return _LONE_SURROGATE.sub("\ufffd", text).encode("utf-8")
