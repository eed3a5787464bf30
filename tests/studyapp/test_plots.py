"""SVG charts: axes with round ticks, one line per series, readable by screen readers."""

import re

import pytest
from django.urls import reverse

from studyapp import plots


@pytest.mark.parametrize(("lo", "hi", "expected"), [(0, 1, [0, 0.2, 0.4, 0.6, 0.8, 1.0]),
                                                    (-6, 6, [-5, -2.5, 0, 2.5, 5])])
def test_nice_ticks(lo, hi, expected):
    assert plots.nice_ticks(lo, hi) == pytest.approx(expected)


def test_line_chart_has_a_title_a_line_per_series_and_a_legend():
    svg = plots.line_chart([plots.Series("a", [0, 1, 2], [0, 1, 4]),
                            plots.Series("b", [0, 1, 2], [1, 1, 1], dashed=True)],
                           title="Two <lines>", x_label="x", y_label="y")
    assert svg.startswith("<svg") and 'role="img"' in svg
    assert "<title>Two &lt;lines&gt;</title>" in svg
    assert svg.count("<polyline") == 2 and "stroke-dasharray" in svg


def test_bar_chart_of_counts_has_whole_ticks_and_a_compact_canvas():
    svg = plots.bar_chart([1, 2, 1], title="Reviews", x_label="day", y_label="reviews",
                          size=plots.COMPACT, counts=True)
    assert 'viewBox="0 0 480 280"' in svg and svg.count("<rect") == 4  # the frame and three bars
    y_ticks = re.findall(r'text-anchor="end">([^<]+)<', svg)
    assert y_ticks and all(float(t) == int(float(t)) for t in y_ticks), y_ticks
    assert "0.5" in plots.bar_chart([1, 2, 1], title="R", x_label="d", y_label="r")


def test_empty_data_draws_nothing():
    assert plots.line_chart([], title="t", x_label="x", y_label="y") == ""


@pytest.mark.parametrize(("kind", "params", "lines"), [
    ("activation", {"name": "tanh", "x": 0.5}, 2),
    ("lr_schedule", {"name": "cosine", "lr": 0.1, "step": 10, "decay_steps": 100}, 1),
    ("optimizer", {"name": "momentum", "theta0": "[1.5, 1.0]", "objective": "quadratic",
                   "curvature": "[1, 10]", "steps": 20, "lr": 0.05}, 3),
])
def test_calculators_draw_their_chart(client, kind, params, lines):
    html = client.get(reverse("studyapp:engine_calculator", args=[kind]), params).content.decode()
    svg = re.search(r"<svg class=\"chart\".*?</svg>", html, re.S)
    assert svg and svg.group(0).count("<polyline") == lines


def test_no_chart_where_numbers_say_it_all(client):
    html = client.get(reverse("studyapp:engine_calculator", args=["conv2d.output_size"])).content
    assert b'<svg class="chart"' not in html


def test_convolution_windows_match_the_output_cells():
    svg = plots.conv_windows([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]], kernel=2,
                             stride=1, padding=0, dilation=1, output=[[1.0, 2.0], [3.0, 4.0]],
                             title="windows")
    # 9 input cells + 4 output cells, and two outlines (window + output cell) per shown position
    assert svg.count("<rect") == 9 + 4 + 2 * 3
    assert svg.count('stroke="#0072B2"') == 2


def test_conv2d_calculator_draws_the_windows(client):
    html = client.get(reverse("studyapp:engine_calculator", args=["conv2d"])).content.decode()
    assert "The kernel sliding over the padded input" in html or "卷积核在补零后的输入上滑动" in html
