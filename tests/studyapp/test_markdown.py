"""Bank Markdown: math left for KaTeX, everything sanitised, results cached."""

import re

import pytest

from studyapp.markdown import render, render_uncached


def test_inline_and_display_math_become_escaped_tex():
    html = render_uncached(r"Sigmoid $\sigma(x) < 1$ and $$\frac{1}{1+e^{-x}}$$")
    assert r'<span class="math-inline">\sigma(x) &lt; 1</span>' in html
    assert r'<span class="math-display">\frac{1}{1+e^{-x}}</span>' in html


def test_display_block():
    html = render_uncached("$$\na^2 + b^2\n$$")
    assert '<div class="math-display">' in html and "a^2 + b^2" in html


@pytest.mark.parametrize(
    "payload",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        "[click](javascript:alert(1))",
        '<a href="#" onclick="alert(1)">x</a>',
        "<iframe src=//evil></iframe>",
    ],
)
def test_script_and_event_handlers_render_inert(payload):
    html = render_uncached(payload)
    assert not re.search(r"<(script|img|iframe)\b", html), html
    assert not re.search(r"<[^>]*\son\w+\s*=", html), "no live event-handler attribute"
    assert 'href="javascript' not in html


def test_tables_lists_and_headings_stay_below_the_page_headings():
    html = render_uncached("## Worked\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n- one\n- two")
    assert "<h4>Worked</h4>" in html and "<table>" in html and "<li>one</li>" in html


def test_render_is_cached(django_assert_num_queries, settings):
    first = render("**cached** $x$")
    assert render("**cached** $x$") == first
    assert "<strong>cached</strong>" in first
