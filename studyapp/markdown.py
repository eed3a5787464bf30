"""Markdown with math, rendered to safe HTML.

Bank text is Markdown with LaTeX in ``$...$`` and ``$$...$$``. Math is not
rendered here: it is emitted as escaped TeX inside ``<span class="math-inline">``
/ ``<div class="math-display">`` and typeset in the browser by KaTeX (served from
our own static files, so it works under a strict Content-Security-Policy).
The HTML is sanitised with nh3, so script or event-handler payloads in bank
content render inert. Results are cached by content hash.
"""

from __future__ import annotations

import hashlib
from html import escape

import nh3
from django.core.cache import cache
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt
from mdit_py_plugins.dollarmath import dollarmath_plugin

CACHE_PREFIX = "md:v1:"
CACHE_SECONDS = 24 * 3600

ALLOWED_TAGS = {
    "p", "br", "hr", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li", "a",
    "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td", "span", "div", "del",
    "sup", "sub", "mark",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "span": {"class"},
    "div": {"class"},
    "code": {"class"},
    "th": {"align"},
    "td": {"align"},
}


def _math_inline(self, tokens, idx, options, env) -> str:
    return f'<span class="math-inline">{escape(tokens[idx].content)}</span>'


def _math_display_inline(self, tokens, idx, options, env) -> str:
    return f'<span class="math-display">{escape(tokens[idx].content)}</span>'


def _math_block(self, tokens, idx, options, env) -> str:
    return f'<div class="math-display">{escape(tokens[idx].content)}</div>\n'


def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
    md.enable("strikethrough")
    md.use(dollarmath_plugin, allow_labels=False, allow_space=True, allow_digits=True,
           double_inline=True)
    md.add_render_rule("math_inline", _math_inline)
    md.add_render_rule("math_inline_double", _math_display_inline)
    md.add_render_rule("math_block", _math_block)
    # Headings inside an answer sit below the page's own h1/h2.
    md.add_render_rule("heading_open", lambda self, t, i, o, e: f"<h{min(int(t[i].tag[1]) + 2, 6)}>")
    md.add_render_rule("heading_close", lambda self, t, i, o, e: f"</h{min(int(t[i].tag[1]) + 2, 6)}>\n")
    return md


_MD = _parser()


def render_uncached(text: str) -> str:
    html = _MD.render(text or "")
    return nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                     url_schemes={"http", "https", "mailto"}, link_rel="noopener noreferrer")


def render(text: str) -> SafeString:
    """Safe HTML for Markdown ``text`` (cached: bank text changes only with a new version)."""
    key = CACHE_PREFIX + hashlib.sha256((text or "").encode()).hexdigest()
    html = cache.get(key)
    if html is None:
        html = render_uncached(text)
        cache.set(key, html, CACHE_SECONDS)
    return mark_safe(html)  # noqa: S308 - sanitised by nh3 above
