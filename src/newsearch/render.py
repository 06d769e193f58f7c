"""Human-readable output shared by the CLI (and the web page's templates later).

Everything that decides how a report, a statistic or a search hit looks on a terminal lives
here; :mod:`newsearch.cli` only parses options and calls one library function.
"""

from __future__ import annotations

import html
import os
import re
import sys
import textwrap
from collections.abc import Sequence
from typing import Any

import click

__all__ = [
    "Progress",
    "article_text",
    "echo_skips",
    "results_text",
    "snippet_text",
    "source_label",
    "stats_text",
    "use_color",
]

_MARK = re.compile(r"<mark>(.*?)</mark>", re.S)
MATCH_STYLE: dict[str, Any] = {"bold": True, "fg": "yellow"}
MAX_FACETS_SHOWN = 8

MAX_SKIPS_SHOWN = 20


def use_color(stream: Any = None) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (no-color.org)."""
    stream = stream or sys.stdout
    if os.environ.get("NO_COLOR"):
        return False
    return bool(getattr(stream, "isatty", lambda: False)())


class Progress:
    """A progress bar on stderr when enabled; a no-op otherwise (piped, --quiet, --json)."""

    def __init__(self, label: str, *, enabled: bool) -> None:
        self.label = label
        self.enabled = enabled
        self._bar: Any = None
        self._shown = 0

    def __enter__(self) -> Progress:
        return self

    def update(self, done: int, total: int) -> None:
        if not self.enabled or total <= 0:
            return
        if self._bar is None:
            self._bar = click.progressbar(length=total, label=self.label, file=sys.stderr,
                                          show_pos=True, show_eta=True, width=30)
            self._bar.__enter__()
        self._bar.update(done - self._shown)
        self._shown = done

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)


def echo_skips(skipped: Sequence[Any], total: int | None = None) -> None:
    """List skipped files/records on stderr (the first few, then a count). ``total`` counts
    every skip when ``skipped`` lists only the first ones."""
    total = len(skipped) if total is None else total
    for s in skipped[:MAX_SKIPS_SHOWN]:
        where = f"{s.path} [{s.record}]" if getattr(s, "record", None) else s.path
        click.echo(f"skipped {where}: {s.reason}", err=True)
    if total > MAX_SKIPS_SHOWN:
        listed = f"the first {len(skipped):,}" if len(skipped) < total else "them all"
        click.echo(f"... and {total - MAX_SKIPS_SHOWN:,} more skipped "
                   f"(--json lists {listed})", err=True)


def _size(n: int) -> str:
    if n < 1000:
        return f"{n:,} bytes"
    value, unit = float(n), "bytes"
    for unit in ("kB", "MB", "GB"):  # noqa: B007 (the unit reached is the one printed)
        value /= 1000
        if value < 1000:
            break
    return f"{value:.1f} {unit}"


def stats_text(stats: Any) -> str:
    lines = [f"{stats.documents:,} articles in {stats.index} ({_size(stats.index_bytes)})"]
    if stats.date_min:
        lines.append(f"dates: {stats.date_min} to {stats.date_max}, {stats.undated:,} undated")
    else:
        lines.append(f"dates: none ({stats.undated:,} undated)")
    if stats.sections:
        top = list(stats.sections.items())
        shown = ", ".join(f"{name} {n:,}" for name, n in top[:15])
        more = f", ... ({len(top) - 15} more)" if len(top) > 15 else ""
        lines.append(f"sections: {shown}{more}")
    else:
        lines.append("sections: none")
    return "\n".join(lines)


_ON, _OFF = "\x01", "\x02"  # match delimiters while wrapping (styled afterwards)


def snippet_text(snippet: str, *, color: bool, width: int | None = None,
                 indent: str = "") -> str:
    """An HTML snippet (escaped text, ``<mark>`` matches) as terminal text, wrapped to
    ``width`` columns under ``indent`` when a width is given."""
    parts = []
    pos = 0
    for m in _MARK.finditer(snippet):
        parts.append(html.unescape(snippet[pos : m.start()]))
        parts.append(_ON + html.unescape(m.group(1)) + _OFF)
        pos = m.end()
    parts.append(html.unescape(snippet[pos:]))
    text = "".join(parts)
    if width:
        text = textwrap.fill(text, width=max(40, width - 1), initial_indent=indent,
                             subsequent_indent=indent, break_on_hyphens=False)
    else:
        text = indent + text
    if color:
        on, off = click.style("", **MATCH_STYLE, reset=False), click.style("", reset=True)
        return text.replace(_ON, on).replace(_OFF, off)
    return text.replace(_ON, "").replace(_OFF, "")


def source_label(source: str) -> str:
    """A source path relative to the current folder when it lies below it."""
    try:
        rel = os.path.relpath(source)
    except ValueError:
        return source
    return source if rel.startswith("..") else rel


def results_text(results: Any, *, color: bool, width: int | None = None) -> str:
    """Hits (rank, title, date, sections, source, snippets) and a facet summary; snippets
    wrapped to ``width`` columns when given (a terminal), one line each otherwise."""
    out: list[str] = []
    # Above the hits: when the query found (almost) nothing, the hits it did find often came
    # from a misspelling's look-alike, and the suggestion is what the reader needs first.
    if results.suggestion:
        out.append(f"Did you mean: {results.suggestion}")
    for notice in results.notices:
        out.append(f"note: {notice}")
    if results.notices or results.suggestion:
        out.append("")
    for hit in results.hits:
        title = click.style(hit.title or "(untitled)", bold=True) if color else hit.title
        out.append(f"{hit.rank:>3}. {title or '(untitled)'}")
        meta = [hit.date.strftime("%Y-%m-%d") if hit.date else "undated"]
        if hit.section:
            meta.append(", ".join(hit.section))
        meta.append(source_label(hit.source))
        meta.append(f"id {hit.id}")
        if hit.versions > 1 and results.stories is not None:
            meta.append(f"{hit.versions - 1} more version{'s' if hit.versions > 2 else ''}")
        out.append("     " + " · ".join(meta))
        for snip in hit.snippets:
            out.append(snippet_text(snip, color=color, width=width, indent="     "))
        out.append("")
    first = (results.page - 1) * results.per_page + 1
    if results.total:
        last = first + len(results.hits) - 1
        shown = f"{first}-{last} of " if results.hits else "page beyond the last; "
        stories = (f" in {results.stories:,} stories" if results.stories is not None
                   and results.stories != results.total else "")
        out.append(f"{shown}{results.total:,} articles{stories} (page {results.page} of "
                   f"{results.pages:,}), {results.took_ms:.0f} ms, sorted by {results.sort}")
    else:
        out.append(f"No articles found ({results.took_ms:.0f} ms).")
    sections = results.facets.get("section") or []
    if sections:
        more = f", +{len(sections) - MAX_FACETS_SHOWN} more" if len(sections) > MAX_FACETS_SHOWN \
            else ""
        out.append("Sections: " + ", ".join(f"{f.value} {f.count:,}"
                                            for f in sections[:MAX_FACETS_SHOWN]) + more)
    langs = results.facets.get("lang") or []
    if langs:
        out.append("Languages: " + ", ".join(f"{f.value} {f.count:,}"
                                             for f in langs[:MAX_FACETS_SHOWN]))
    dates = results.facets.get("date") or []
    if dates:
        top = dates if len(dates) <= 12 else sorted(dates, key=lambda f: -f.count)[:12]
        top = sorted(top, key=lambda f: f.value)
        label = f"Dates by {results.date_granularity}"
        if len(dates) > len(top):
            label += f" (the busiest {len(top)} of {len(dates)})"
        out.append(f"{label}: " + ", ".join(f"{f.value} {f.count:,}" for f in top))
    return "\n".join(out)


SERIES_COLORS = ("cyan", "yellow", "magenta", "green", "blue", "red")


def trend_text(trend: Any, *, color: bool, width: int = 80, bars: str = "#") -> str:
    """``newsearch trend``: a bar per period (one per query, side by side), scaled to the
    largest count, with the count after it."""
    series = trend.series
    if not series or not series[0].periods:
        return "No dated articles match."
    labels = [p for p, _c in series[0].periods]
    peak = max(c for s in series for _p, c in s.periods) or 1
    qw = max(len(s.query) for s in series) if len(series) > 1 else 0
    lw = max(len(label) for label in labels)
    cw = len(f"{peak:,}")
    room = max(10, width - lw - (qw + 1 if qw else 0) - cw - 4)
    out = [f"Articles by {trend.by}: " + ", ".join(
        f"{s.query} ({sum(c for _p, c in s.periods):,})" for s in series)]
    for i, label in enumerate(labels):
        for k, s in enumerate(series):
            n = s.periods[i][1]
            bar = bars * (round(n / peak * room) if n else 0)
            if color:
                bar = click.style(bar, fg=SERIES_COLORS[k % len(SERIES_COLORS)])
            head = label if k == 0 else " " * lw
            name = f" {s.query:<{qw}}" if qw else ""
            out.append(f"{head}{name} {n:>{cw},} {bar}")
    return "\n".join(out)


def alerts_text(alerts: Sequence[Any]) -> str:
    """A line per watch: how many new articles it found and the first titles."""
    out = []
    for a in alerts:
        titles = "; ".join(h.title or "(untitled)" for h in a.hits)
        more = "" if a.count <= len(a.hits) else f"; +{a.count - len(a.hits):,} more"
        out.append(f"watch {a.watch}: {a.count:,} new" + (f": {titles}{more}" if a.count else ""))
    return "\n".join(out)


def watches_text(items: Sequence[Any]) -> str:
    if not items:
        return "No watches."
    return "\n".join(f"{w.name}: {w.query}" + (f" (sections: {', '.join(w.sections)})"
                                                 if w.sections else "") for w in items)


def related_text(related: Any, *, color: bool) -> str:
    """``newsearch similar``: one line per related story, then its best snippet."""
    if not related.hits:
        return f"No related stories found for {related.id}."
    out = []
    for hit in related.hits:
        title = hit.title or "(untitled)"
        when = hit.date.strftime("%Y-%m-%d") if hit.date else "undated"
        out.append(f"{hit.rank:>3}. {click.style(title, bold=True) if color else title}")
        more = f" · {hit.versions - 1} more version{'s' if hit.versions > 2 else ''}" \
            if hit.versions > 1 else ""
        section = f" · {', '.join(hit.section)}" if hit.section else ""
        out.append(f"     {when}{section} · id {hit.id}{more}")
        if hit.snippets:
            out.append("     " + snippet_text(hit.snippets[0], color=color))
    return "\n".join(out)


def article_dict(article: Any, versions: Sequence[Any]) -> dict[str, Any]:
    """``show --json``: the article, its story cluster and every version of the story (this
    one included), oldest first."""
    own = next((v for v in versions if v.id == article.id), None)
    return {**article.to_dict(), "cluster": own.cluster if own else None,
            "versions": [v.to_dict() for v in versions]}


def article_text(article: Any, versions: Sequence[Any] = ()) -> str:
    lines = [article.title or "(untitled)"]
    meta = [article.date.isoformat() if article.date else "undated"]
    if article.sections:
        meta.append(", ".join(article.sections))
    if article.author:
        meta.append(f"by {article.author}")
    lines.append(" · ".join(meta))
    if article.url:
        lines.append(article.url)
    lines.append(f"{source_label(article.source)}" + (f" [{article.key}]" if article.key and
                                                      article.key not in ("article", "page")
                                                      else ""))
    lines.append("")
    if article.subtitle:
        lines.extend([article.subtitle, ""])
    lines.append(article.body)
    if len(versions) > 1:
        lines.extend(["", f"{len(versions)} versions of this story:"])
        for v in versions:
            mark = "*" if v.id == article.id else " "
            when = v.date.strftime("%Y-%m-%d %H:%M") if v.date else "undated"
            lines.append(f" {mark} {when}  {v.title or '(untitled)'}  (id {v.id})")
    return "\n".join(lines)
