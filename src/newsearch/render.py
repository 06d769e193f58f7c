"""Human-readable output shared by the CLI (and the web page's templates later).

Everything that decides how a report, a statistic or a search hit looks on a terminal lives
here; :mod:`newsearch.cli` only parses options and calls one library function.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any

import click

__all__ = ["Progress", "echo_skips", "stats_text", "use_color"]

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


def echo_skips(skipped: Sequence[Any]) -> None:
    """List skipped files/records on stderr (the first few, then a count)."""
    for s in skipped[:MAX_SKIPS_SHOWN]:
        where = f"{s.path} [{s.record}]" if getattr(s, "record", None) else s.path
        click.echo(f"skipped {where}: {s.reason}", err=True)
    if len(skipped) > MAX_SKIPS_SHOWN:
        click.echo(f"... and {len(skipped) - MAX_SKIPS_SHOWN:,} more skipped "
                   "(--json lists them all)", err=True)


def stats_text(stats: Any) -> str:
    lines = [f"{stats.documents:,} articles in {stats.index}"]
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
