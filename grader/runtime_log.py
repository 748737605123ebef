"""TensorFlow's runtime log, kept out of the notebooks' setup cells.

Importing TensorFlow 2.21 writes lines such as "oneDNN custom operations are on" and "Could
not find cuda drivers on your machine" from its C++ runtime straight to file descriptor 2,
before any setting is read: TF_CPP_MIN_LOG_LEVEL, GLOG_minloglevel and ABSL_MIN_LOG_LEVEL
all leave them. A Jupyter kernel shows whatever reaches that descriptor as red stderr under
the cell that happened to run. The setup cells therefore import Keras inside
``tensorflow_runtime_log_hidden()``: file descriptor 2 goes to a temporary file for the
import, and whatever the file received that is not one of the runtime's log lines is
written back to stderr afterwards, so nothing else written there is lost.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
from collections.abc import Iterator

# absl's log prefix: severity letter, MMDD, time, thread id, file:line] (e.g.
# "I0000 00:00:1795393435.094496    5488 port.cc:153] oneDNN custom operations are on"),
# absl's one-line notice that comes before the first of them, and the second line of the
# CPU-feature notice (shown when TF_CPP_MIN_LOG_LEVEL allows it).
RUNTIME_LOG_LINE = re.compile(
    r"^(?:[IWEF]\d{4} [\d:.]+\s+\d+ [\w./-]+:\d+\] .*"
    r"|WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    r"|To enable the following instructions: .*, in other operations, rebuild TensorFlow with the "
    r"appropriate compiler flags\.)$"
)


def without_runtime_log_lines(text: str) -> str:
    """``text`` with TensorFlow's runtime log lines taken out, the rest as it was."""
    return "".join(
        line
        for line in text.splitlines(keepends=True)
        if not RUNTIME_LOG_LINE.match(line.rstrip("\n"))
    )


@contextlib.contextmanager
def tensorflow_runtime_log_hidden() -> Iterator[None]:
    """Run the body (an import of TensorFlow or Keras) with the runtime's log lines hidden.

    Also sets TF_CPP_MIN_LOG_LEVEL=3 (unless already set), which does hide the runtime's
    later lines, those written once TensorFlow has read its settings.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    try:
        saved = os.dup(2)
    except OSError:  # no descriptor 2 to redirect (a detached process)
        yield
        return
    with tempfile.TemporaryFile() as captured:
        _flush_stderr()
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            _flush_stderr()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            rest = without_runtime_log_lines(captured.read().decode("utf-8", errors="replace"))
            if rest:
                sys.stderr.write(rest)


def _flush_stderr() -> None:
    with contextlib.suppress(Exception):
        sys.stderr.flush()
