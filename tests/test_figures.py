"""Figures a reader would rather look at, drawn so that they can be read."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402

from grader.figures import show_window_counts  # noqa: E402


def test_window_counts_share_one_colour_scale_with_a_colour_bar_and_titles_apart():
    tiling, overlapping = np.ones((9, 9), int), np.array([[1, 2], [2, 4]])
    figure = show_window_counts({"2x2, stride 2 (tiling)": tiling, "3x3, stride 2": overlapping})
    figure.canvas.draw()
    panels = [ax for ax in figure.axes if ax.get_title()]
    images = [ax.images[0] for ax in panels]
    assert {image.get_clim() for image in images} == {(-0.5, 4.5)}  # a colour is one count
    bars = [ax for ax in figure.axes if ax not in panels]
    assert len(bars) == 1 and bars[0].get_ylabel() == "windows covering the pixel"
    renderer = figure.canvas.get_renderer()
    left, right = (ax.title.get_window_extent(renderer) for ax in panels)
    assert left.x1 < right.x0, "the two titles overlap"
    assert [t.get_text() for t in panels[1].texts] == ["1", "2", "2", "4"]
