"""The instructor's report on a graded batch: one self-contained HTML page.

Per-question score distributions and pass rates (figures), the submissions that need a
look (what went wrong, in which cell), the slowest submissions, and a table per student.
The figures are also written beside the page as ``report.png``.
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


def _questions(records) -> list[tuple[str, float]]:
    seen = {}
    for record in records:
        for s in record.scores:
            seen.setdefault(s["grade_id"], s["max_score"])
    return list(seen.items())


def _figure(outcome):
    records = [r for r in outcome.records if r.scores]
    questions = _questions(records)
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
    questions = _questions(records)
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

    flagged = [r for r in records if r.problems()]
    parts.append(f"<h2>Submissions to look at ({len(flagged)})</h2>")
    if flagged:
        parts.append("<table><tr><th>student</th><th>score</th><th>what happened</th></tr>")
        for r in flagged:
            notes = "<br>".join(esc(n) for n in r.problems())
            parts.append(
                f"<tr><td>{esc(r.student)}</td><td>{r.score:g}/{r.max_score:g}</td><td>{notes}</td></tr>"
            )
        parts.append("</table>")
    else:
        parts.append("<p>None: every submission ran to the end without errors in graded cells.</p>")

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

    parts.append("<h2>Every student</h2><table><tr><th>student</th>")
    parts += [f"<th>{esc(q)}<br>({m:g})</th>" for q, m in questions]
    parts.append("<th>total</th><th>time (s)</th><th>notes</th></tr>")
    for r in records:
        by_id = {s["grade_id"]: s for s in r.scores}
        row = [f"<tr><td>{esc(r.student)}</td>"]
        for q, m in questions:
            s = by_id.get(q)
            score = s["score"] if s else 0.0
            css = "" if score >= m else (" class='zero'" if score == 0 else " class='lost'")
            row.append(f"<td{css}>{score:g}</td>")
        status = "unchanged, not regraded" if r.reused else f"{r.wall_seconds:.1f}"
        row.append(
            f"<td><b>{r.score:g}</b>/{r.max_score:g}</td><td>{status}</td><td>{len(r.problems())}</td></tr>"
        )
        parts.append("".join(row))
    parts.append("</table></body></html>")
    return "\n".join(parts)
