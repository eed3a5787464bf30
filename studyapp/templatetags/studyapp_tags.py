import json
import re

from django import template
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from studyapp import markdown as md

register = template.Library()


@register.filter
def markdown(text: str):
    """Render bank Markdown (math typeset by KaTeX in the browser), sanitised."""
    return md.render(text)


@register.filter
def highlight(text: str, terms: list[str]):
    """Escape ``text`` and wrap every search term in <mark>."""
    html = escape(text)
    if not terms:
        return mark_safe(html)
    pattern = re.compile("|".join(re.escape(escape(t)) for t in terms), re.IGNORECASE)
    return mark_safe(pattern.sub(lambda m: f"<mark>{m.group(0)}</mark>", html))


_MARKUP = re.compile(r"\*\*|__|`|\$\$?|^#+\s*|^\s*[-*]\s+|\\(?=[a-zA-Z])", re.MULTILINE)


def plain_text(markdown_text: str) -> str:
    """Markdown with its markup stripped (for one-line previews)."""
    return " ".join(_MARKUP.sub("", markdown_text).split())


@register.filter
def snippet(text: str, terms: list[str], width: int = 80) -> str:
    """The part of ``text`` around the first search term, as plain text."""
    text = plain_text(text)
    if not terms:
        return text[:width * 2]
    lower = text.lower()
    hits = [lower.find(t.lower()) for t in terms if lower.find(t.lower()) >= 0]
    if not hits:
        return text[:width * 2]
    start = max(min(hits) - width, 0)
    return ("…" if start else "") + text[start:start + width * 2] + "…"


@register.simple_tag
def tr(obj, field: str) -> str:
    """``obj.<field>_zh`` or ``obj.<field>_en`` for the active language."""
    suffix = "en" if (get_language() or "").startswith("en") else "zh"
    return getattr(obj, f"{field}_{suffix}", "")


@register.filter
def lang_text(pair: dict, fallback: str = "") -> str:
    """The active language's text of a {"zh-hans": ..., "en": ...} pair."""
    if not isinstance(pair, dict):
        return fallback
    lang = "en" if (get_language() or "").startswith("en") else "zh-hans"
    return pair.get(lang) or pair.get("en") or fallback


@register.filter
def step_label(step: dict) -> str:
    return step["label"] if (get_language() or "").startswith("en") else step["label_zh"]


@register.filter
def number(value, digits: int = 6) -> str:
    """Numbers and nested lists for display, to ``digits`` significant digits."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    if isinstance(value, list):
        return "[" + ", ".join(number(v, digits) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {number(v, digits)}" for k, v in value.items()) + "}"
    return str(value)


@register.filter
def as_json(value) -> str:
    return json.dumps(value, ensure_ascii=False)


@register.filter
def search_snippet(version, terms: list[str]) -> str:
    """Where the search matched: the answer (or prompt) in the active language if it has a
    term, else in the other language."""
    en = (get_language() or "").startswith("en")
    fields = [("answer", "en" if en else "zh"), ("prompt", "en" if en else "zh"),
              ("answer", "zh" if en else "en"), ("prompt", "zh" if en else "en")]
    for field, lang in fields:
        text = getattr(version, f"{field}_{lang}")
        if any(t.lower() in text.lower() for t in terms):
            return snippet(text, terms)
    return snippet(getattr(version, f"answer_{'en' if en else 'zh'}"), [])


@register.inclusion_tag("studyapp/_torch_code.html")
def torch_code(kind: str, params: dict):
    """The CLI command and the kind's torch code that reproduce an answer."""
    from studyapp import services

    return {"kind": kind, "command": services.engine_command(kind=kind, params=params),
            "source": services.engine_source(kind=kind)}


@register.filter
def duration(seconds) -> str:
    """A length of time for people: ``45 s``, ``12 min 3 s``, ``1 h 5 min``."""
    try:
        total = round(float(seconds))
    except (TypeError, ValueError):
        return ""
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    if minutes:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    return f"{secs} s"


@register.filter
def get_lang(pair: dict, lang: str) -> str:
    """One language of a {"zh-hans": ..., "en": ...} pair."""
    return pair.get(lang, "") if isinstance(pair, dict) else ""


@register.filter
def split_words(text: str) -> list[str]:
    return text.split()
