"""Small, dependency-free SVG charts drawn from engine data.

Server-side SVG needs no JavaScript, works under a strict Content-Security-Policy
and prints well. Colours are the Okabe–Ito palette (distinguishable with common
colour-vision deficiencies); every chart has a title and text for screen readers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html import escape

PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9")
WIDTH, HEIGHT = 640, 320
# Charts shown side by side (the flashcard statistics): a smaller canvas, so that the text, drawn
# at the same size, stays readable when the chart is scaled to half the page.
COMPACT = (480, 280)
MARGIN = {"left": 56, "right": 16, "top": 28, "bottom": 44}


@dataclass(frozen=True)
class Series:
    label: str
    xs: list[float]
    ys: list[float]
    dashed: bool = False


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """About ``count`` round tick values covering [lo, hi]."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return []
    if hi == lo:
        hi, lo = hi + 1, lo - 1
    raw = (hi - lo) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    start = math.ceil(lo / step) * step
    ticks, t = [], start
    while t <= hi + step * 1e-9:
        ticks.append(round(t, 12))
        t += step
    return ticks


def _fmt(v: float) -> str:
    return f"{v:.4g}"


class _Frame:
    def __init__(self, xlo, xhi, ylo, yhi, width=WIDTH, height=HEIGHT):
        self.xlo, self.xhi, self.ylo, self.yhi = xlo, xhi, ylo, yhi
        self.w, self.h = width, height
        self.pw = width - MARGIN["left"] - MARGIN["right"]
        self.ph = height - MARGIN["top"] - MARGIN["bottom"]

    def x(self, v: float) -> float:
        return MARGIN["left"] + (v - self.xlo) / ((self.xhi - self.xlo) or 1) * self.pw

    def y(self, v: float) -> float:
        return MARGIN["top"] + (1 - (v - self.ylo) / ((self.yhi - self.ylo) or 1)) * self.ph


def _axes(f: _Frame, x_label: str, y_label: str, *, x_ticks: bool = True,
          whole_y: bool = False) -> list[str]:
    out = [f'<rect x="{MARGIN["left"]}" y="{MARGIN["top"]}" width="{f.pw}" height="{f.ph}" '
           f'fill="#fff" stroke="#c9d0da"/>']
    for t in nice_ticks(f.xlo, f.xhi) if x_ticks else []:
        x = f.x(t)
        out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{MARGIN["top"]}" '
                   f'y2="{MARGIN["top"] + f.ph}" stroke="#eef1f5"/>')
        out.append(f'<text x="{x:.1f}" y="{MARGIN["top"] + f.ph + 16}" text-anchor="middle">'
                   f'{_fmt(t)}</text>')
    for t in nice_ticks(f.ylo, f.yhi):
        if whole_y and t != int(t):  # counts: no tick at 1.5 reviews
            continue
        y = f.y(t)
        out.append(f'<line x1="{MARGIN["left"]}" x2="{MARGIN["left"] + f.pw}" y1="{y:.1f}" '
                   f'y2="{y:.1f}" stroke="#eef1f5"/>')
        out.append(f'<text x="{MARGIN["left"] - 6}" y="{y + 4:.1f}" text-anchor="end">'
                   f'{_fmt(t)}</text>')
    out.append(f'<text x="{MARGIN["left"] + f.pw / 2}" y="{f.h - 6}" text-anchor="middle" '
               f'class="axis-label">{escape(x_label)}</text>')
    out.append(f'<text transform="translate(14 {MARGIN["top"] + f.ph / 2}) rotate(-90)" '
               f'text-anchor="middle" class="axis-label">{escape(y_label)}</text>')
    return out


def _legend(series: list[Series]) -> list[str]:
    out, x = [], MARGIN["left"]
    for i, s in enumerate(series):
        color = PALETTE[i % len(PALETTE)]
        dash = ' stroke-dasharray="5 4"' if s.dashed else ""
        out.append(f'<line x1="{x}" x2="{x + 18}" y1="14" y2="14" stroke="{color}" '
                   f'stroke-width="2.5"{dash}/>')
        out.append(f'<text x="{x + 22}" y="18">{escape(s.label)}</text>')
        x += 30 + 7.5 * len(s.label)
    return out


def _svg(title: str, body: list[str], width=WIDTH, height=HEIGHT) -> str:
    return (f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
            f'xmlns="http://www.w3.org/2000/svg" aria-label="{escape(title)}">'
            f"<title>{escape(title)}</title>" + "".join(body) + "</svg>")


def line_chart(series: list[Series], *, title: str, x_label: str, y_label: str,
               size: tuple[int, int] = (WIDTH, HEIGHT)) -> str:
    """Lines y(x), one per series, on shared axes."""
    xs = [x for s in series for x in s.xs]
    ys = [y for s in series for y in s.ys if math.isfinite(y)]
    if not xs or not ys:
        return ""
    ylo, yhi = min(ys), max(ys)
    pad = (yhi - ylo) * 0.05 or 0.5
    f = _Frame(min(xs), max(xs), ylo - pad, yhi + pad, *size)
    body = _axes(f, x_label, y_label)
    for i, s in enumerate(series):
        points = " ".join(f"{f.x(x):.1f},{f.y(y):.1f}" for x, y in zip(s.xs, s.ys, strict=True)
                          if math.isfinite(y))
        dash = ' stroke-dasharray="5 4"' if s.dashed else ""
        body.append(f'<polyline fill="none" stroke="{PALETTE[i % len(PALETTE)]}" '
                    f'stroke-width="2.2"{dash} points="{points}"/>')
    return _svg(title, body + _legend(series), *size)


def path_chart(paths: list[Series], *, title: str, x_label: str, y_label: str,
               optimum: tuple[float, float] | None = None) -> str:
    """2-D trajectories (e.g. optimiser iterates θ_t), with start and end marked."""
    xs = [x for p in paths for x in p.xs] + ([optimum[0]] if optimum else [])
    ys = [y for p in paths for y in p.ys] + ([optimum[1]] if optimum else [])
    if not xs:
        return ""
    span = max(max(xs) - min(xs), max(ys) - min(ys)) or 1.0
    cx, cy = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2
    half = span * 0.55
    f = _Frame(cx - half * 2, cx + half * 2, cy - half, cy + half)  # 2:1 plot, equal scale
    body = _axes(f, x_label, y_label)
    if optimum:
        body.append(f'<text x="{f.x(optimum[0]):.1f}" y="{f.y(optimum[1]) + 5:.1f}" '
                    f'text-anchor="middle" class="optimum">★</text>')
    for i, p in enumerate(paths):
        color = PALETTE[i % len(PALETTE)]
        points = " ".join(f"{f.x(x):.1f},{f.y(y):.1f}" for x, y in zip(p.xs, p.ys, strict=True))
        body.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{points}"/>')
        for x, y in zip(p.xs, p.ys, strict=True):
            body.append(f'<circle cx="{f.x(x):.1f}" cy="{f.y(y):.1f}" r="2.6" fill="{color}"/>')
        body.append(f'<circle cx="{f.x(p.xs[0]):.1f}" cy="{f.y(p.ys[0]):.1f}" r="5" fill="none" '
                    f'stroke="{color}" stroke-width="2"/>')
    return _svg(title, body + _legend(paths))


def conv_windows(grid: list[list[float]], *, kernel: int, stride: int, padding: int,
                 dilation: int, output: list[list[float]], title: str, shown: int = 3) -> str:
    """The padded input as a grid of numbers, the first ``shown`` windows the kernel slides
    over, and the output cells they produce, in matching colours."""
    cell, gap = 30, 48
    padded = [[0.0] * (len(grid[0]) + 2 * padding) for _ in range(padding)]
    padded += [[0.0] * padding + list(row) + [0.0] * padding for row in grid]
    padded += [[0.0] * (len(grid[0]) + 2 * padding) for _ in range(padding)]
    rows, cols = len(padded), len(padded[0])
    out_rows, out_cols = len(output), len(output[0])
    width = cell * (cols + out_cols) + gap + 20
    height = cell * max(rows, out_rows) + 40
    body: list[str] = []

    def square(x0, y0, value, *, fill="#fff", stroke="#c9d0da", muted=False):
        body.append(f'<rect x="{x0}" y="{y0}" width="{cell}" height="{cell}" fill="{fill}" '
                    f'stroke="{stroke}"/>')
        colour = "#9aa5b4" if muted else "#1c2430"
        body.append(f'<text x="{x0 + cell / 2}" y="{y0 + cell / 2 + 4}" text-anchor="middle" '
                    f'fill="{colour}">{_fmt(value)}</text>')

    top = 30
    for r in range(rows):
        for c in range(cols):
            inside = padding <= r < rows - padding and padding <= c < cols - padding
            square(10 + c * cell, top + r * cell, padded[r][c], muted=not inside,
                   fill="#fff" if inside else "#f3f5f8")
    ox = 10 + cols * cell + gap
    for r in range(out_rows):
        for c in range(out_cols):
            square(ox + c * cell, top + r * cell, output[r][c])
    span = dilation * (kernel - 1) + 1
    positions = [(r, c) for r in range(out_rows) for c in range(out_cols)][:shown]
    for i, (r, c) in enumerate(positions):
        colour = PALETTE[i % len(PALETTE)]
        x0, y0 = 10 + c * stride * cell, top + r * stride * cell
        body.append(f'<rect x="{x0 + 2 + i}" y="{y0 + 2 + i}" width="{span * cell - 4 - 2 * i}" '
                    f'height="{span * cell - 4 - 2 * i}" fill="none" stroke="{colour}" '
                    f'stroke-width="2.5"/>')
        body.append(f'<rect x="{ox + c * cell + 2}" y="{top + r * cell + 2}" width="{cell - 4}" '
                    f'height="{cell - 4}" fill="none" stroke="{colour}" stroke-width="2.5"/>')
    body.append(f'<text x="10" y="18" class="axis-label">{escape(title)}</text>')
    return _svg(title, body, width=width, height=height)


def bar_chart(values: list[float], *, title: str, x_label: str, y_label: str,
              x0: float = 0, labels: list[str] | None = None, y_max: float | None = None,
              size: tuple[int, int] = (WIDTH, HEIGHT), counts: bool = False) -> str:
    """Vertical bars at x = x0, x0 + 1, ... (or one per label, labelled below); ``counts``: whole
    numbers only on the y axis."""
    if not values:
        return ""
    top = y_max if y_max is not None else max(max(values), 1)
    n = len(values)
    f = _Frame(x0 - 0.5, x0 + n - 0.5, 0, top * 1.08, *size)
    body = _axes(f, x_label, y_label, x_ticks=labels is None, whole_y=counts)
    width = max(1.0, f.pw / n * 0.75)
    for i, v in enumerate(values):
        x, y = f.x(x0 + i), f.y(v)
        body.append(f'<rect x="{x - width / 2:.1f}" y="{y:.1f}" width="{width:.1f}" '
                    f'height="{f.y(0) - y:.1f}" fill="{PALETTE[0]}"><title>{_fmt(v)}</title></rect>')
        if labels is not None:
            body.append(f'<text x="{x:.1f}" y="{MARGIN["top"] + f.ph + 16}" text-anchor="middle">'
                        f'{escape(labels[i])}</text>')
    return _svg(title, body, *size)


def study_charts(*, stats, forecast, english: bool) -> dict[str, str]:
    """The flashcard statistics as charts: reviews per day, the due forecast, recall per area,
    and FSRS forgetting curves."""
    import fsrs

    t = (lambda en, zh: en) if english else (lambda en, zh: zh)
    charts = {
        "history": bar_chart([n for _, n in stats.reviews_per_day], x0=-(len(stats.reviews_per_day) - 1),
                             title=t("Reviews per day", "每日复习数"), x_label=t("days ago", "天前（0 = 今天）"),
                             y_label=t("reviews", "复习数"), size=COMPACT, counts=True),
        "forecast": bar_chart([n for _, n in forecast], title=t("Forecast: reviews due", "预计每日复习量"),
                              x_label=t("days from today", "距今天数"), y_label=t("reviews", "复习数"),
                              size=COMPACT, counts=True),
    }
    if stats.areas:
        charts["mastery"] = bar_chart(
            [a["recall"] * 100 for a in stats.areas], labels=[a["code"] for a in stats.areas], y_max=100,
            title=t("Recall now, per area", "各领域当前记忆保持率"), x_label=t("area", "领域"),
            y_label=t("predicted recall %", "预测回忆概率 %"), size=COMPACT)
    scheduler = fsrs.Scheduler(enable_fuzzing=False)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    days = list(range(0, 61))
    curves = []
    for s in (2, 10, 40):
        card = fsrs.Card(card_id=s, state=fsrs.State.Review, stability=s, difficulty=5.0,
                         last_review=start, due=start)
        curves.append(Series(t(f"stability {s} d", f"稳定性 {s} 天"), days,
                             [100 * scheduler.get_card_retrievability(card, start + timedelta(days=d))
                              for d in days]))
    charts["forgetting"] = line_chart(curves, title=t("FSRS forgetting curves", "FSRS 遗忘曲线"),
                                      x_label=t("days since the last review", "距上次复习的天数"),
                                      y_label=t("recall probability %", "回忆概率 %"), size=COMPACT)
    return charts
