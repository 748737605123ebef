"""The instructor's report on a graded batch: one self-contained HTML page.

Per-question score distributions and pass rates (figures), questions in the notebook's
order; the submissions that need a look (errors outside the tests, time-outs, tampering,
integrity findings: not ordinary wrong answers); why points were lost, question by question,
with the checks' likely causes; the slowest submissions; and a table per student, each
student linked to their feedback page. The figures are also written beside the page as
``report.png``.
"""

from __future__ import annotations

import base64
import datetime
import html
import io
from collections import defaultdict
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def write(path: Path, outcome) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    figure = _figure(outcome)
    png = io.BytesIO()
    if figure is not None:
        figure.savefig(png, format="png", dpi=110, bbox_inches="tight")
        figure.savefig(path.with_name("report.png"), dpi=110, bbox_inches="tight")
        plt.close(figure)
    path.write_text(_page(outcome, png.getvalue()), encoding="utf-8")
    return path


def _questions(records, order: list[str] = ()) -> list[tuple[str, float]]:
    seen = {}
    for record in records:
        for s in record.scores:
            seen.setdefault(s["grade_id"], s["max_score"])
    position = {grade_id: i for i, grade_id in enumerate(order)}
    return sorted(seen.items(), key=lambda item: position.get(item[0], len(position)))


def _figure(outcome):
    records = [r for r in outcome.records if r.scores]
    questions = _questions(records, outcome.question_order)
    if not questions:
        return None
    by_question = defaultdict(list)
    for record in records:
        for s in record.scores:
            by_question[s["grade_id"]].append(s["score"])
    n = len(questions)
    figure, axes = plt.subplots(2, n, figsize=(2.2 * n + 1, 5), squeeze=False)
    for i, (grade_id, max_score) in enumerate(questions):
        ax = axes[0][i]
        scores = by_question[grade_id]
        values = sorted(set(scores) | {0.0, max_score})
        ax.bar([f"{v:g}" for v in values], [scores.count(v) for v in values], color="#4c72b0")
        ax.set_title(grade_id, fontsize=8)
        ax.set_xlabel("points", fontsize=8)
        ax.tick_params(labelsize=7)
        if i == 0:
            ax.set_ylabel("submissions")
    gs = axes[1][0].get_gridspec()
    for ax in axes[1]:
        ax.remove()
    rates = figure.add_subplot(gs[1, :])
    names = [q for q, _ in questions]
    passed = [
        sum(1 for s in by_question[q] if s >= m) / max(len(by_question[q]), 1) for q, m in questions
    ]
    bars = rates.bar(names, [100 * p for p in passed], color="#55a868")
    rates.bar_label(bars, labels=[f"{100 * p:.0f}%" for p in passed], fontsize=8)
    rates.set_ylim(0, 110)
    rates.set_ylabel("full points (%)")
    rates.set_title("Pass rate per question (share of submissions with full points)", fontsize=9)
    rates.tick_params(axis="x", labelsize=7, rotation=20)
    figure.suptitle(f"{outcome.assignment}: score distribution per question", fontsize=10)
    figure.tight_layout()
    return figure


def _page(outcome, png: bytes) -> str:
    esc = html.escape
    records = outcome.records
    questions = _questions(records, outcome.question_order)
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>Grading report: {esc(outcome.assignment)}</title>",
        "<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}"
        "table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 7px}"
        "img{max-width:100%}th{background:#f0f0f0}.warn{background:#fde2e2;border:2px solid #c00;padding:.7em}"
        ".ok{background:#e6f4ea;padding:.7em}td.lost{background:#fff3cd}td.zero{background:#fde2e2}"
        "</style></head><body>",
        f"<h1>Grading report: {esc(outcome.assignment)}</h1>",
        f"<p>{len(records)} submissions, graded {datetime.datetime.now():%Y-%m-%d %H:%M} with "
        f"{esc(outcome.executor)} in {outcome.seconds:.0f} s. Limits: {esc(outcome.limits.describe())}.</p>",
    ]
    if outcome.isolation_problem:
        parts.append(
            "<p class='warn'><b>Graded without isolation.</b> Student code ran with the grader's "
            "rights: it could read the solutions, the gradebook and other submissions, and use "
            f"the network. Reason: {esc(outcome.isolation_problem)}</p>"
        )
    else:
        parts.append(
            "<p class='ok'>Isolated with bubblewrap: no network; the course folder (solutions, "
            "gradebook, other submissions), home folder and /tmp hidden from student code.</p>"
        )
    if png:
        parts.append(
            f"<img alt='scores per question' src='data:image/png;base64,{base64.b64encode(png).decode()}'>"
        )

    flagged = [r for r in records if r.needs_a_look()]
    parts.append(f"<h2>Submissions to look at ({len(flagged)})</h2>")
    if flagged:
        parts.append("<table><tr><th>student</th><th>score</th><th>what happened</th></tr>")
        for r in flagged:
            notes = "<br>".join(esc(n) for n in r.needs_a_look())
            parts.append(
                f"<tr><td>{_student(outcome, r.student)}</td><td>{r.score:g}/{r.max_score:g}</td><td>{notes}</td></tr>"
            )
        parts.append("</table>")
    else:
        parts.append(
            "<p>None: no errors outside the tests, no time-outs, no tampering. Tests that failed "
            "are below, question by question.</p>"
        )
    parts += _points_lost(outcome, questions)

    slowest = sorted((r for r in records if not r.reused), key=lambda r: -r.wall_seconds)[:5]
    parts.append(
        "<h2>Slowest submissions</h2><table><tr><th>student</th><th>total (s)</th>"
        "<th>in the notebook's cells (s)</th><th>slowest cell</th></tr>"
    )
    for r in slowest:
        cell = max(r.events, key=lambda e: e["seconds"], default=None)
        where = (
            f"{cell['grade_id'] or 'cell ' + str(cell['index'] + 1)} ({cell['seconds']:.1f} s)"
            if cell
            else ""
        )
        parts.append(
            f"<tr><td>{esc(r.student)}</td><td>{r.wall_seconds:.1f}</td><td>{r.cell_seconds:.1f}</td><td>{esc(where)}</td></tr>"
        )
    parts.append("</table>")

    # As wide as the page: grade ids break after their underscores, and a class with many
    # questions scrolls inside the table's own box, not the page.
    parts.append("<h2>Every student</h2><div style='overflow-x:auto'><table><tr><th>student</th>")
    parts += [f"<th>{esc(q).replace('_', '_<wbr>')}<br>({m:g})</th>" for q, m in questions]
    parts.append("<th>total</th><th>time (s)</th><th>to look at</th></tr>")
    for r in records:
        by_id = {s["grade_id"]: s for s in r.scores}
        failures = _failures(r)
        row = [f"<tr><td>{_student(outcome, r.student)}</td>"]
        for q, m in questions:
            s = by_id.get(q)
            score = s["score"] if s else 0.0
            css = "" if score >= m else (" class='zero'" if score == 0 else " class='lost'")
            why = failures.get(q)
            title = (
                f" title='{esc(why[0] + (': ' + why[1] if why[1] else ''), quote=True)}'"
                if why
                else ""
            )
            row.append(f"<td{css}{title}>{score:g}</td>")
        status = "unchanged, not regraded" if r.reused else f"{r.wall_seconds:.1f}"
        row.append(
            f"<td><b>{r.score:g}</b>/{r.max_score:g}</td><td>{status}</td><td>{len(r.needs_a_look())}</td></tr>"
        )
        parts.append("".join(row))
    parts.append("</table></div></body></html>")
    return "\n".join(parts)


def _student(outcome, student: str) -> str:
    """The student's name, linked to their feedback page when there is one."""
    page = outcome.feedback_pages.get(student)
    name = html.escape(student)
    return f"<a href='{html.escape(page, quote=True)}'>{name}</a>" if page else name


def _failures(record) -> dict[str, tuple[str, str]]:
    """(explanation, likely cause) of each failed test of a submission, by grade id."""
    return {
        e["grade_id"]: (e["explanation"], e.get("cause", ""))
        for e in record.events
        if e.get("graded") and e["grade_id"] and e["status"] != "ok" and e["explanation"]
    }


def _points_lost(outcome, questions) -> list[str]:
    """Why points were lost, question by question in notebook order: how many submissions
    failed each test, and the checks' likely causes with how often each was given."""
    esc = html.escape
    parts = ["<h2>Why points were lost</h2>"]
    rows = []
    failures = [_failures(record) for record in outcome.records]  # once per submission
    for grade_id, max_score in questions:
        causes: dict[str, int] = defaultdict(int)
        failed = 0
        for failed_tests in failures:
            why = failed_tests.get(grade_id)
            if why is None:
                continue
            failed += 1
            causes[why[1] or why[0]] += 1
        if failed:
            listed = "<br>".join(
                f"{count} × {esc(cause)}"
                for cause, count in sorted(causes.items(), key=lambda c: -c[1])
            )
            rows.append(
                f"<tr><td>{esc(grade_id)} ({max_score:g})</td><td>{failed}</td><td>{listed}</td></tr>"
            )
    if rows:
        parts.append(
            "<table><tr><th>question (points)</th><th>failed</th><th>likely cause, or what the check "
            "found (times)</th></tr>" + "".join(rows) + "</table>"
        )
    else:
        parts.append("<p>No test failed.</p>")
    return parts
