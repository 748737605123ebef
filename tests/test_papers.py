"""The papers' figures: one place (grader/papers.py), each with where the paper gives it, and the
notebooks' prose quoting each exactly as it is written there."""

import re

import pytest

from grader import papers
from grader.course import Course
from grader.notebook_cells import read

COURSE = Course()
QUOTED_BY = {"alexnet": "04_alexnet", "lenet5": "03_lenet5"}  # the notebook that quotes each paper


def solution_cells(assignment):
    (path,) = COURSE.solution_notebooks(assignment)
    return read(path).cells


@pytest.mark.parametrize("paper", sorted(papers.PAPERS))
def test_the_notebook_that_quotes_a_paper_prints_all_its_figures_with_their_pages(paper):
    name = f"{paper.upper()}_PAPER"
    code = "\n".join(c.source for c in solution_cells(QUOTED_BY[paper]) if c.cell_type == "code")
    assert f"from grader.papers import {name}" in code
    assert re.search(rf"\b{name}\.table\(\)", code), f"no cell prints {name}.table()"


@pytest.mark.parametrize("paper", sorted(papers.PAPERS))
def test_every_figure_is_quoted_in_the_prose_as_it_is_written_in_the_package(paper):
    prose = "\n".join(
        c.source for c in solution_cells(QUOTED_BY[paper]) if c.cell_type == "markdown"
    )
    prose = re.sub(r"\s+", " ", prose)
    missing = {
        key: figure.text
        for key, figure in papers.PAPERS[paper].figures.items()
        if figure.text not in prose
    }
    assert not missing, (
        f"{QUOTED_BY[paper]} does not quote these figures as written in grader/papers.py: {missing}"
    )


def test_every_figure_says_where_the_paper_gives_it():
    for paper in papers.PAPERS.values():
        for key, figure in paper.figures.items():
            assert re.search(r"§|abstract|Table|Figure|Appendix", figure.where), (key, figure.where)


def test_an_unknown_figure_names_the_known_ones():
    with pytest.raises(KeyError, match="known: .*top1_2010"):
        papers.ALEXNET_PAPER["top1_2011"]


def test_a_table_lists_each_figure_with_its_page():
    table = papers.ALEXNET_PAPER.table("crop_factor", "dropout_rate")
    assert table.splitlines()[1:] == [
        "  2048  factor by which crops and reflections enlarge the training set (§4.1, p. 5)",
        "   0.5  probability that dropout zeroes a hidden unit, in fc6 and fc7 (§4.2, p. 6)",
    ]


@pytest.mark.parametrize("assignment", COURSE.assignments())
def test_a_figure_any_notebook_reads_from_the_package_is_quoted_in_its_prose_as_written(assignment):
    cells = solution_cells(assignment)
    code = "\n".join(c.source for c in cells if c.cell_type == "code")
    prose = re.sub(r"\s+", " ", "\n".join(c.source for c in cells if c.cell_type == "markdown"))
    for key, paper in papers.PAPERS.items():
        read_by_cells = set(re.findall(rf'{key.upper()}_PAPER\["(\w+)"\]', code))
        for call in re.findall(rf"{key.upper()}_PAPER\.table\(([^)]*)\)", code):
            read_by_cells |= set(re.findall(r'"(\w+)"', call))
        for name in read_by_cells:
            assert paper[name].text in prose, (
                f"{assignment} reads {key} {name} but quotes it otherwise"
            )
