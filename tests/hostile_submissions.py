"""A class of broken and hostile submissions of notebook 01, each with the outcome ``grader
grade`` must give it. Every submission starts from the reference answers (full marks) and
changes one thing; tests/test_class_grading.py grades them all in one batch.

``{course}`` in a cell is replaced by the grading course's folder, so that the cells that try
to read the solutions or the gradebook aim at the real files.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from course_points import full_marks

from grader.course import REPO_ROOT
from grader.notebook_cells import nbgrader_meta

ASSIGNMENT = "01_pooling"
FULL_MARKS = full_marks(ASSIGNMENT)


@dataclass(frozen=True)
class Hostile:
    student: str
    what: str
    expected_score: float
    expected_note: str | None  # a phrase the report must show for it (None: nothing to flag)
    zero: tuple[str, ...] = ()  # graded cells that must score 0
    edit: object = field(
        default=lambda nb, course: nb, repr=False
    )  # (notebook, course) -> notebook | bytes
    # Other files of the upload: relative path -> bytes, or Link(target) for a symbolic link.
    files: dict = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class Link:
    target: str  # ``{course}`` is replaced by the grading course's folder


def _cell(notebook, grade_id):
    return next(c for c in notebook.cells if nbgrader_meta(c).get("grade_id") == grade_id)


def _append(notebook, grade_id, code):
    _cell(notebook, grade_id).source += "\n" + code
    return notebook


def _replace(notebook, grade_id, code):
    _cell(notebook, grade_id).source = code
    return notebook


def _delete(notebook, *grade_ids):
    notebook.cells = [
        c for c in notebook.cells if nbgrader_meta(c).get("grade_id") not in grade_ids
    ]
    return notebook


def _duplicate(notebook, grade_id):
    index = next(
        i for i, c in enumerate(notebook.cells) if nbgrader_meta(c).get("grade_id") == grade_id
    )
    notebook.cells.insert(index, copy.deepcopy(notebook.cells[index]))
    return notebook


def _set_metadata(notebook, grade_id, value):
    _cell(notebook, grade_id).metadata["nbgrader"] = value
    return notebook


def _tag(notebook, grade_ids, tag):
    for grade_id in grade_ids:
        cell = _cell(notebook, grade_id)
        cell.metadata["tags"] = [*cell.metadata.get("tags", []), tag]
    return notebook


MANY_CELLS = 10_000


def _extra_cells(notebook, count):
    notebook.cells += [
        nbformat.v4.new_code_cell(f"x_{i} = {i}\nprint('z' * 200)") for i in range(count)
    ]
    return notebook


def _future_minor(notebook):
    notebook.nbformat_minor = 99
    return json.dumps(notebook).encode()


def _deeply_nested(notebook, depth=100_000):
    """Valid JSON that no recursive parser can read: a list nested ``depth`` deep."""
    text = json.dumps(notebook)
    return (text[:-1] + ', "deep": ' + "[" * depth + "]" * depth + "}").encode()


FAKE_GRADER = b"""
import sys
class _Everything:
    def __getattr__(self, name):
        return lambda *args, **kwargs: print("all good")
sys.modules["grader.checks.pooling"] = _Everything()
"""


# Appended under an ``if`` that is true only when a leak or an escape worked: the student then
# loses the invariance test (2 points), so the score itself shows the breach.
LEAK_SHOWS = "    def invariance_score(*args, **kwargs):\n        return -1.0\n"

ESCAPES = """
import glob, os, socket, subprocess
escaped = []
for command in (['mount', '-o', 'remount,rw', '/'], ['umount', '/tmp'], ['mount', '-t', 'tmpfs', 'x', '/mnt']):
    try:
        if subprocess.run(command, capture_output=True).returncode == 0:
            escaped.append(command)
    except OSError:
        pass
subprocess.run(['unshare', '-r', 'true'], capture_output=True)  # its own namespace: harmless
for target in ('{course}/pwned', '{course}/../pwned', '/pwned', '/tmp/pwned', '/etc/pwned'):
    try:
        open(target, 'w').write('x')
        escaped.append(target)
    except OSError:
        pass
for secret in ('/etc/shadow', '{course}/gradebook.db', '{course}/solutions/01_pooling/01_pooling.ipynb'):
    try:
        open(secret, 'rb').read(1)
        escaped.append(secret)
    except OSError:
        pass
for path in ['{socket}', *glob.glob('/run/**', recursive=True), *glob.glob('/var/run/**', recursive=True)]:
    try:
        with socket.socket(socket.AF_UNIX) as client:
            client.settimeout(1)
            client.connect(path)
            escaped.append(path)
    except OSError:
        pass
print('escaped:', escaped)
"""


def host_socket_path(course) -> Path:
    """A Unix socket the test listens on, on the host, beside the grading course."""
    return Path(course).parent / "host.sock"


STUB = "def pool2d(x, pool_size, strides=None, padding='valid', mode='max'):\n    return np.zeros((1, 1, 1, 1))"
POOL2D_TESTS = ("test_pool2d_valid", "test_pool2d_same", "test_pool2d_min")
# The invariance score is computed with the student's pool2d: a wrong pool2d fails it too.
USES_POOL2D = (*POOL2D_TESTS, "test_invariance_score")
# Channels whose code binds names in ways no source can show (setattr(), sys.modules): a NumPy
# exercise defined after them cannot be proved NumPy-only, so pool2d_backward's test fails too.
HIDES_ITS_NAMES = {"pre_run_hook", "repatching_thread"}

CORPUS = [
    Hostile("honest", "the reference answers", FULL_MARKS, None, edit=lambda nb, course: nb),
    # -- inputs that once stopped the whole batch ------------------------------------------
    Hostile(
        "metadata_string",
        "a test cell's nbgrader record replaced by a string",
        FULL_MARKS,
        "malformed nbgrader record",
        edit=lambda nb, course: _set_metadata(nb, "test_pool2d_min", "graded"),
    ),
    Hostile(
        "grade_id_list",
        "a list as a test cell's grade_id",
        FULL_MARKS,
        "malformed nbgrader record",
        edit=lambda nb, course: _set_metadata(
            nb, "test_pool2d_same", {"grade": True, "grade_id": ["a"], "points": 2}
        ),
    ),
    Hostile(
        "deep_json",
        "valid JSON nested 100,000 deep",
        0.0,
        "nested too deeply",
        edit=lambda nb, course: _deeply_nested(nb),
    ),
    Hostile(
        "lone_surrogate",
        "prints a lone surrogate, which no UTF-8 file can hold, and flushes each time",
        FULL_MARKS,
        None,
        edit=lambda nb, course: _append(nb, "invariance_score", "print('\\ud800', flush=True)"),
    ),
    # -- uploads ----------------------------------------------------------------------------
    Hostile(
        "links_the_gradebook",
        "a symbolic link to the course's gradebook (hidden tests inside) in the upload",
        FULL_MARKS,
        "is a symbolic link: left out",
        files={"gradebook.db": Link("{course}/gradebook.db")},
    ),
    Hostile(
        "shadows_grader",
        "a wrong pool2d, and a grader/ package in the upload whose checks pass everything",
        FULL_MARKS - 8,  # every test that uses pool2d: 3 + 2 + 1 + 2 points
        "is code, not data",
        zero=USES_POOL2D,
        edit=lambda nb, course: _replace(nb, "pool2d", STUB),
        files={"grader/__init__.py": FAKE_GRADER, "grader/checks/__init__.py": b""},
    ),
    Hostile(
        "ipython_startup",
        "a wrong pool2d, and an IPython startup file in the upload that passes every check",
        FULL_MARKS - 8,  # every test that uses pool2d: 3 + 2 + 1 + 2 points
        "hidden folder",
        zero=USES_POOL2D,
        edit=lambda nb, course: _replace(nb, "pool2d", STUB),
        files={".ipython/profile_default/startup/00-pass.py": FAKE_GRADER},
    ),
    Hostile(
        "own_timestamp",
        "a timestamp.txt in the upload claiming an early submission",
        FULL_MARKS,
        None,
        files={"timestamp.txt": b"2000-01-01 00:00:00.000000 UTC"},
    ),
    Hostile(
        "=HYPERLINK(1)",
        "a student id a spreadsheet would run as a formula",
        FULL_MARKS,
        None,
    ),
    # -- resources --------------------------------------------------------------------------
    Hostile(
        "disk_bomb",
        "writes 64 MiB files into its workspace until the disk runs out, after its answers",
        FULL_MARKS - 3,  # the last answer's test, 3 points
        "wrote more than",
        zero=("test_pool2d_backward",),
        edit=lambda nb, course: _append(
            nb,
            "pool2d_backward",
            "import itertools, time\n"
            "for i in itertools.count():\n"
            "    open(f'filler-{i}', 'wb').write(b'x' * 2**26)\n"
            "    time.sleep(0.05)",
        ),
    ),
    Hostile(
        "debug_prints",
        "the reference answers, with pool2d printing a debug line to stderr on every call",
        FULL_MARKS,
        None,
        edit=lambda nb, course: _append(
            nb,
            "pool2d",
            "_pool2d = pool2d\n\n"
            "def pool2d(*args, **kwargs):\n"
            "    import sys\n"
            "    print('debug: pool2d called', file=sys.stderr)\n"
            "    return _pool2d(*args, **kwargs)",
        ),
    ),
    Hostile(
        "infinite_loop",
        "an endless loop in the last answer cell",
        FULL_MARKS - 3,  # the last answer's test, 3 points
        "ran past its time limit",
        zero=("test_pool2d_backward",),
        edit=lambda nb, course: _append(nb, "pool2d_backward", "while True:\n    pass"),
    ),
    Hostile(
        "memory_bomb",
        "allocates 800 MB blocks until memory runs out, after defining its answer",
        FULL_MARKS,
        "memory limit",
        edit=lambda nb, course: _append(
            nb, "invariance_score", "hoard = [np.ones(10**8) for _ in range(100)]"
        ),
    ),
    Hostile(
        "kernel_crash",
        "kills its own kernel in the min-pooling answer cell",
        FULL_MARKS - 7,  # that answer and every later one: the kernel restarts without them
        "kernel died",
        zero=("test_min_pooling_layer", "test_invariance_score", "test_pool2d_backward"),
        edit=lambda nb, course: _append(nb, "min_pooling_layer", "import os\nos._exit(1)"),
    ),
    Hostile(
        "invalid_json",
        "a notebook file cut off half-way",
        0.0,
        "not valid notebook JSON",
        edit=lambda nb, course: nbformat.writes(nb)[:500].encode(),
    ),
    Hostile(
        "tampered_tests",
        "a wrong pool2d, and its test cells emptied",
        FULL_MARKS - 8,  # every test that uses pool2d: 3 + 2 + 1 + 2 points
        "was edited",
        zero=USES_POOL2D,
        edit=lambda nb, course: [
            _replace(nb, "pool2d", STUB),
            *[_replace(nb, t, "pass") for t in POOL2D_TESTS],
        ][0],
    ),
    Hostile(
        "deleted_cells",
        "a test cell deleted (restored, passes) and an answer cell deleted (restored empty)",
        FULL_MARKS - 2,  # one 2-point test lost
        "was deleted",
        zero=("test_pool_output_shape",),
        edit=lambda nb, course: _delete(nb, "test_pool2d_same", "pool_output_shape"),
    ),
    Hostile(
        "duplicated_cells",
        "a test cell pasted twice",
        FULL_MARKS,
        "appears 2 times",
        edit=lambda nb, course: _duplicate(nb, "test_pool2d_min"),
    ),
    Hostile(
        "reads_solutions",
        "copies pool2d out of the solutions notebook, peeks at the gradebook, uses the network",
        FULL_MARKS - 11,  # every test that uses pool2d, and the later NumPy exercise (its exec())
        "pool2d: FileNotFoundError",
        zero=(*USES_POOL2D, "test_pool2d_backward"),
        edit=lambda nb, course: _replace(
            nb,
            "pool2d",
            "import json, socket\n"
            "for path in ('../../solutions/01_pooling/01_pooling.ipynb', '{course}/solutions/01_pooling/01_pooling.ipynb', '{repo}/solutions/01_pooling/01_pooling.ipynb'):\n"
            "    try:\n"
            "        cells = json.load(open(path))['cells']\n"
            "        exec(next(''.join(c['source']) for c in cells if 'def pool2d' in ''.join(c['source'])))\n"
            "    except FileNotFoundError:\n"
            "        pass\n"
            "open('{course}/gradebook.db', 'rb')\n".replace("{course}", str(course)).replace(
                "{repo}", str(REPO_ROOT)
            ),
        ),
    ),
    Hostile(
        "replaces_check",
        "a wrong pool2d, and the check function replaced by one that passes everything",
        FULL_MARKS - 8,  # every test that uses pool2d: 3 + 2 + 1 + 2 points
        None,
        zero=USES_POOL2D,
        edit=lambda nb, course: _replace(
            nb, "pool2d", STUB + "\ncheck.check_pool2d = lambda *args, **kwargs: print('all good')"
        ),
    ),
    Hostile(
        "replaces_numpy",
        "a wrong pool2d, and numpy's comparison helpers made to say 'equal'",
        FULL_MARKS - 8,  # every test that uses pool2d: 3 + 2 + 1 + 2 points
        None,
        zero=USES_POOL2D,
        edit=lambda nb, course: _replace(
            nb,
            "pool2d",
            STUB + "\nnp.allclose = lambda *args, **kwargs: True\n"
            "np.isclose = lambda a, b, *args, **kwargs: np.ones(np.broadcast(a, b).shape, bool)\n"
            "np.testing.assert_allclose = lambda *args, **kwargs: None",
        ),
    ),
    Hostile(
        "hides_errors",
        "a wrong pool2d, and IPython told to swallow every exception",
        FULL_MARKS - 8,  # every test that uses pool2d: 3 + 2 + 1 + 2 points
        None,
        zero=USES_POOL2D,
        edit=lambda nb, course: _replace(
            nb,
            "pool2d",
            STUB + "\nget_ipython().set_custom_exc((BaseException,), lambda *args, **kwargs: None)",
        ),
    ),
    # -- channels that forged points while tests ran in the student's kernel ----------------
    *[
        Hostile(
            student,
            f"a wrong pool2d, and {what}",
            # every test that uses pool2d: 3 + 2 + 1 + 2 points; and the later NumPy exercise's
            # 3 when the cell binds names its source cannot show (source_rules refuses it)
            FULL_MARKS - 8 - (3 if student in HIDES_ITS_NAMES else 0),
            None,
            zero=(*USES_POOL2D, *(("test_pool2d_backward",) if student in HIDES_ITS_NAMES else ())),
            edit=lambda nb, course, code=code: _replace(nb, "pool2d", STUB + "\n" + code),
        )
        for student, what, code in [
            (
                "patches_session_send",
                "the kernel's session.send patched to report every error as ok",
                "_session = get_ipython().kernel.session\n_send = _session.send\n"
                "def _send_ok(stream, kind, content=None, *args, **kwargs):\n"
                "    if isinstance(content, dict) and content.get('status') == 'error':\n"
                "        content = {'status': 'ok', 'execution_count': content.get('execution_count')}\n"
                "    if kind == 'error':\n"
                "        return None\n"
                "    return _send(stream, kind, content, *args, **kwargs)\n"
                "_session.send = _send_ok",
            ),
            (
                "pre_run_hook",
                "a pre_run_cell hook that empties every later cell",
                "get_ipython().events.register('pre_run_cell', lambda info: setattr(info, 'raw_cell', 'pass'))",
            ),
            (
                "input_transformer",
                "an input transformer that turns checks into prints",
                "get_ipython().input_transformers_post.append(lambda lines: [l.replace('check.check_', 'print(') for l in lines])",
            ),
            (
                "displayhook_credit",
                "a non-numeric result shown for nbgrader's partial credit, then an error",
                "import sys\nsys.displayhook('ok')",
            ),
            (
                "repatching_thread",
                "a background thread that keeps replacing the freshly imported checks",
                "import threading, time, sys\n"
                "def _repatch():\n"
                "    while True:\n"
                "        for name, module in list(sys.modules.items()):\n"
                "            if name.startswith('grader.checks') and hasattr(module, 'check_pool2d'):\n"
                "                module.check_pool2d = lambda *a, **k: None\n"
                "        time.sleep(0.01)\n"
                "threading.Thread(target=_repatch, daemon=True).start()",
            ),
            (
                "frame_reader",
                "a pool2d whose result reads the expected answer from the checks' frames",
                "import sys as _sys\n"
                "class _Mirror:\n"
                "    def __array__(self, dtype=None, copy=None):\n"
                "        frame = _sys._getframe(1)\n"
                "        while frame is not None:\n"
                "            if 'expected' in frame.f_locals:\n"
                "                return np.asarray(frame.f_locals['expected'])\n"
                "            frame = frame.f_back\n"
                "        return np.zeros((1, 1, 1, 1))\n"
                "def pool2d(*args, **kwargs):\n"
                "    return _Mirror()",
            ),
        ]
    ],
    Hostile(
        "skip_execution_tag",
        "a wrong pool2d, and the skip-execution tag on every test cell (nbclient skips such a "
        "cell; nbgrader gives a cell without an error full marks)",
        FULL_MARKS - 8,  # every test that uses pool2d: 3 + 2 + 1 + 2 points
        None,
        zero=USES_POOL2D,
        edit=lambda nb, course: _tag(_replace(nb, "pool2d", STUB), USES_POOL2D, "skip-execution"),
    ),
    Hostile(
        "raises_exception_tag",
        "a wrong pool2d, the raises-exception tag on every test cell, and clear_output after",
        FULL_MARKS - 8,  # every test that uses pool2d: 3 + 2 + 1 + 2 points
        None,
        zero=USES_POOL2D,
        edit=lambda nb, course: _append(
            _tag(_replace(nb, "pool2d", STUB), USES_POOL2D, "raises-exception"),
            "invariance_score",
            "from IPython.display import clear_output\nclear_output()",
        ),
    ),
    Hostile(
        "patches_keras",
        "a pool2d whose average pooling is wrong, and the kernel's Keras AveragePooling2D "
        "patched to agree with it (the checker's Keras is its own)",
        FULL_MARKS - 5,  # the 'valid' and 'same' pool2d tests
        None,
        zero=("test_pool2d_valid", "test_pool2d_same"),
        edit=lambda nb, course: _append(
            nb,
            "pool2d",
            "_right_pool2d = pool2d\n\n"
            "def pool2d(x, pool_size, strides=None, mode='max', padding='valid'):\n"
            "    out = _right_pool2d(x, pool_size, strides, mode, padding)\n"
            "    return np.zeros_like(out) if mode == 'avg' else out\n\n"
            "class _Zeros(keras.layers.AveragePooling2D):\n"
            "    def call(self, inputs):\n"
            "        return keras.ops.zeros_like(super().call(inputs))\n\n"
            "keras.layers.AveragePooling2D = _Zeros",
        ),
    ),
    Hostile(
        "fork_daemon",
        "forks a daemon that outlives its kernel, after its answers",
        FULL_MARKS,
        None,
        edit=lambda nb, course: _append(
            nb,
            "invariance_score",
            "import os, time\n"
            "if os.fork() == 0:\n"
            "    os.setsid()\n"
            "    if os.fork() == 0:\n"
            "        time.sleep(3600)\n"
            "    os._exit(0)",
        ),
    ),
    Hostile(
        "many_cells",
        f"{MANY_CELLS:,} extra code cells after its answers, each printing a line (more "
        "output than a notebook may keep)",
        FULL_MARKS,
        None,
        edit=lambda nb, course: _extra_cells(nb, MANY_CELLS),
    ),
    Hostile(
        "nbformat_3",
        "the notebook saved in the old nbformat 3 (worksheets)",
        FULL_MARKS,
        None,
        edit=lambda nb, course: nbformat.writes(nbformat.convert(nb, 3), version=3).encode(),
    ),
    Hostile(
        "nbformat_future_minor",
        "a notebook claiming nbformat 4.99, a minor version no reader knows",
        FULL_MARKS,
        None,
        edit=lambda nb, course: _future_minor(nb),
    ),
    Hostile(
        "run_cell_override",
        "a wrong pool2d, and an instance-level run_cell_async that runs nothing: its kernel "
        "runs no more cells, so no answer of it can be checked",
        0.0,
        "your kernel did not answer the grader",
        edit=lambda nb, course: _replace(
            nb,
            "pool2d",
            STUB + "\nimport types\n"
            "async def _nothing(self, *args, **kwargs):\n"
            "    from IPython.core.interactiveshell import ExecutionResult, ExecutionInfo\n"
            "    return ExecutionResult(ExecutionInfo('', False, False, False, None))\n"
            "get_ipython().run_cell_async = types.MethodType(_nothing, get_ipython())",
        ),
    ),
    Hostile(
        "prints_history",
        "prints every cell the kernel ran (IPython's In), looking for the hidden tests",
        FULL_MARKS,
        None,
        edit=lambda nb, course: _append(
            nb,
            "invariance_score",
            "print('\\n'.join(s for s in In if 'check.' in s))\n"
            "if any('HIDDEN ' + 'TESTS' in s or 'n_' + 'random' in s for s in In):\n" + LEAK_SHOWS,
        ),
    ),
    Hostile(
        "prints_environment",
        "prints its environment and the files it can see, looking for secrets",
        FULL_MARKS,
        None,
        edit=lambda nb, course: _append(
            nb,
            "invariance_score",
            "import os\nprint(dict(os.environ))\nprint(os.listdir('/'), os.listdir('/tmp'))\n"
            # (its source must not hold the secret's value: the feedback shows the source)
            "if any('SECRET' in key for key in os.environ):\n" + LEAK_SHOWS,
        ),
    ),
    Hostile(
        "tries_escape",
        "tries to remount the file system, unmount /tmp, write into the course folder, read "
        "/etc/shadow and the gradebook, and connect to a host socket (any success costs it "
        "the invariance test)",
        FULL_MARKS,
        None,
        edit=lambda nb, course: _append(
            nb,
            "invariance_score",
            ESCAPES.replace("{course}", str(course)).replace(
                "{socket}", str(host_socket_path(course))
            )
            + "if escaped:\n"
            + LEAK_SHOWS,
        ),
    ),
    Hostile(
        "floods_output",
        "prints 20 MB from an answer cell",
        FULL_MARKS,
        None,
        edit=lambda nb, course: _append(
            nb, "invariance_score", "for _ in range(200_000):\n    print('x' * 100)"
        ),
    ),
    Hostile(
        "thread_bomb",
        "starts threads until none can be started, after its answers (its tests still run: "
        "they run in the checker; whether its kernel then garbles a message varies)",
        FULL_MARKS,
        None,
        edit=lambda nb, course: _append(
            nb,
            "invariance_score",
            "import threading, time\n"
            "try:\n"
            "    while True:\n"
            "        threading.Thread(target=time.sleep, args=(3600,), daemon=True).start()\n"
            "except RuntimeError:\n"
            "    pass",
        ),
    ),
]


def write(folder, reference: nbformat.NotebookNode, course) -> None:
    """Each hostile student's submission in ``folder/<student>/01_pooling.ipynb``, with its
    other files beside it."""
    for hostile in CORPUS:
        notebook = hostile.edit(copy.deepcopy(reference), course)
        target = folder / hostile.student / f"{ASSIGNMENT}.ipynb"
        target.parent.mkdir(parents=True)
        if isinstance(notebook, bytes):
            target.write_bytes(notebook)
        else:
            target.write_text(json.dumps(notebook, indent=1))
        for relative, content in hostile.files.items():
            path = target.parent / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, Link):
                path.symlink_to(content.target.replace("{course}", str(course)))
            else:
                path.write_bytes(content)
