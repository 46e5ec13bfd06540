"""The board report as one self-contained HTML file.

The page must open offline, from an e-mail attachment or a shared drive, in
any browser: so there is no script, no web font, no CDN. Styles are inline in
one ``<style>`` block, and every image (PNG charts, GIF animations) is embedded
as a base64 ``data:`` URI; the same charts sit beside the page as PNG and SVG
for slides. All text from files is escaped.
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd

from sim import __version__

CSS = """
:root { --ink: #1d1d1d; --muted: #5a5a5a; --rule: #d9d9d9; --accent: #0072B2; --warn: #D55E00; }
* { box-sizing: border-box; }
body { font-family: -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--ink);
       margin: 0; background: #fafafa; line-height: 1.45; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 32px 48px; background: #fff; }
h1 { font-size: 1.7rem; margin: 0.2rem 0 0.3rem; }
h2 { font-size: 1.3rem; margin-top: 2.2rem; border-bottom: 2px solid var(--accent); padding-bottom: 0.2rem; }
h3 { font-size: 1.05rem; margin-top: 1.4rem; }
p.sub { color: var(--muted); margin-top: 0; }
p.lead { font-size: 1.15rem; background: #eef5fb; border-left: 5px solid var(--accent); padding: 0.8rem 1rem; }
p.rule, figcaption, .small { color: var(--muted); font-size: 0.88rem; }
.banner { border: 2px solid var(--warn); background: #fff4ec; padding: 0.6rem 1rem; margin: 1rem 0; }
.note { border-left: 4px solid var(--warn); padding: 0.3rem 0.8rem; margin: 0.5rem 0; background: #fffaf6; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; font-size: 0.88rem; width: 100%; }
th, td { border-bottom: 1px solid var(--rule); padding: 0.3rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #f2f2f2; }
td.num { text-align: right; white-space: nowrap; }
figure { margin: 1.2rem 0 2rem; }
figure img { max-width: 100%; height: auto; border: 1px solid var(--rule); }
.gifs { display: flex; flex-wrap: wrap; gap: 16px; }
.gifs figure { flex: 1 1 480px; margin: 0.5rem 0; }
details summary { cursor: pointer; font-weight: 600; margin: 0.6rem 0; }
footer { color: var(--muted); font-size: 0.8rem; margin-top: 2.5rem; border-top: 1px solid var(--rule); padding-top: 0.6rem; }
@media print { body { background: #fff; } main { padding: 0; } details { display: block; } }
"""


@dataclass
class Chart:
    """A chart on the page: its heading, what it shows, and the PNG to embed."""

    name: str
    heading: str
    caption: str
    png: bytes
    alt: str


@dataclass
class Animation:
    """A GIF of the pathway with its caption."""

    caption: str
    gif: bytes


def data_uri(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def table_html(frame: pd.DataFrame, numeric: tuple[str, ...] = ()) -> str:
    """A plain HTML table of text cells (already formatted)."""
    head = "".join(f"<th>{esc(c)}</th>" for c in frame.columns)
    body = []
    for _, row in frame.iterrows():
        cells = "".join(
            f'<td class="num">{esc(v)}</td>' if c in numeric else f"<td>{esc(v)}</td>" for c, v in zip(frame.columns, row, strict=True)
        )
        body.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def render(
    *,
    title: str,
    subtitle: str,
    banner: str | None,
    headline: str,
    rule: str,
    answer_tables: list[tuple[str, pd.DataFrame]],
    notes: list[str],
    charts: list[Chart],
    animations: list[Animation],
    animation_note: str | None,
    scenario_table: pd.DataFrame,
    assumptions,
    folder_name: str,
) -> str:
    """The whole page as a string."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(title)}</title>",
        f"<style>{CSS}</style></head><body><main>",
        f"<h1>{esc(title)}</h1>",
        f'<p class="sub">{esc(subtitle)}</p>',
    ]
    if banner:
        parts.append(f'<div class="banner" role="alert"><strong>Partial results.</strong> {esc(banner)}</div>')
    parts += ['<h2 id="answer">The answer</h2>', f'<p class="lead">{esc(headline)}</p>', f'<p class="rule">{esc(rule)}</p>']
    for caption, frame in answer_tables:
        parts += [f"<h3>{esc(caption)}</h3>", table_html(frame, tuple(c for c in frame.columns if c != "configuration"))]
    if notes:
        parts.append('<h2 id="limits">What this report cannot show</h2>')
        parts += [f'<p class="note">{esc(n)}</p>' for n in notes]
    if charts:
        parts.append('<h2 id="charts">Charts</h2>')
    for chart in charts:
        parts += [
            f'<figure id="chart-{esc(chart.name)}">',
            f"<h3>{esc(chart.heading)}</h3>",
            f'<img src="{data_uri(chart.png, "image/png")}" alt="{esc(chart.alt)}">',
            f"<figcaption>{esc(chart.caption)} (Also charts/{esc(chart.name)}.png and .svg beside this page.)</figcaption>",
            "</figure>",
        ]
    parts.append('<h2 id="watch">Watch a day of the pathway</h2>')
    if animations:
        parts.append('<div class="gifs">')
        for animation in animations:
            parts.append(
                f'<figure><img src="{data_uri(animation.gif, "image/gif")}" alt="{esc(animation.caption)}">'
                f"<figcaption>{esc(animation.caption)}</figcaption></figure>"
            )
        parts.append("</div>")
    if animation_note:
        parts.append(f'<p class="small">{esc(animation_note)}</p>')
    parts += [
        '<h2 id="scenarios">All scenarios</h2>',
        "<details><summary>Every scenario, per year, with 95% confidence intervals</summary>",
        table_html(scenario_table, tuple(c for c in scenario_table.columns if c != "scenario")),
        "</details>",
        '<h2 id="assumptions">Assumptions</h2>',
        "<h3>How the numbers were made</h3>",
        table_html(assumptions.settings),
        "<h3>Where the pathway's numbers come from</h3>",
        f"<p>{esc(assumptions.provenance_counts)}</p>",
        "<details><summary>Every number with its source or assumption</summary>",
        table_html(assumptions.provenance.astype(str)),
        "</details>",
        "<h3>STRESS-DES reporting checklist</h3>",
        '<p class="small">Strengthening the Reporting of Empirical Simulation Studies, discrete-event simulation '
        "(Monks et al. 2019): the items this sweep's results can answer.</p>",
        table_html(assumptions.checklist),
        "<details><summary>Package versions</summary>",
        table_html(assumptions.versions),
        "</details>",
        f"<footer>Made by carepath {esc(__version__)} on {esc(datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC'))} "
        f"from the results folder {esc(folder_name)} alone; nothing was re-run.</footer>",
        "</main></body></html>",
    ]
    return "\n".join(parts)
