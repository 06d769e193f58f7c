"""The ``newsearch`` command: option parsing and rendering only; the library does the work.

Exit codes: 0 success; 1 ``--strict`` run that skipped input; 2 an error (missing index,
bad query, bad option, an index folder that cannot be read or written, a worker process
killed); 3 the index is locked by another writer; 130 interrupted.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from collections.abc import Callable
from typing import Any, NoReturn

import click

from . import render
from .backend import BACKENDS, index_paths, index_stats, open_index
from .errors import IndexLocked, NewsearchError, QueryError
from .related import DEFAULT_RELATED, MAX_RELATED
from .search import DEFAULT_HALF_LIFE_DAYS, MAX_PER_PAGE, SORTS
from .trends import BY
from .watches import add_watch, check_watches, remove_watch, watches

__all__ = ["main"]

EXIT_SKIPPED = 1
EXIT_USER = 2
EXIT_LOCKED = 3
EXIT_INTERRUPTED = 130

INDEX_HELP = ("Index folder (default: $NEWSEARCH_INDEX, else ./index); with --backend "
              "opensearch the index name in the cluster (default: the URL's, else news).")
# The library's search parameters as `newsearch search` spells them, for error messages.
_OPTIONS = {"since": "--since", "until": "--until", "sort": "--sort", "page": "--page",
            "per_page": "--limit", "half_life_days": "--half-life", "by": "--by"}
_OPTION_NAME = re.compile(r"^(?:since|until|sort|page|per_page|half_life_days|by)\b|"
                          r"(?<= after )until\b")


def _fail(message: str, code: int) -> NoReturn:
    click.echo(f"newsearch: {message}", err=True)
    sys.exit(code)


def _run(fn: Callable[[], Any]) -> Any:
    """Call into the library; turn its errors into one sentence and an exit code."""
    try:
        return fn()
    except IndexLocked as exc:
        _fail(str(exc), EXIT_LOCKED)
    except QueryError as exc:
        message = str(exc)
        if exc.parameter in _OPTIONS:  # "since ... is not a valid date" → "--since ..."
            message = _OPTION_NAME.sub(lambda m: _OPTIONS[m.group()], message)
        _fail(message, EXIT_USER)
    except NewsearchError as exc:
        _fail(str(exc), EXIT_USER)
    except KeyboardInterrupt:
        _fail("interrupted; the index keeps everything committed before", EXIT_INTERRUPTED)


def backend_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """--backend and --opensearch-url, the same on every command that opens an index."""
    fn = click.option(
        "--opensearch-url", metavar="URL",
        help="OpenSearch node(s), comma-separated: http://host:9200,host2:9200 (default: "
             "$NEWSEARCH_OPENSEARCH_URL, else http://127.0.0.1:9200); implies "
             "--backend opensearch.")(fn)
    return click.option(
        "--backend", type=click.Choice(BACKENDS),
        help="Where the index is: whoosh, a folder (the default), or opensearch, a cluster "
             "(default: $NEWSEARCH_BACKEND, else whoosh).")(fn)


def _print_json(obj: Any) -> None:
    click.echo(json.dumps(obj, ensure_ascii=False, indent=None))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="newsearch")
def main() -> None:
    """Full-text search for news archives."""


@main.command("index")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option("--index", "index_dir", metavar="DIR", help=INDEX_HELP)
@click.option("--rebuild", is_flag=True, help="Start afresh instead of updating the index.")
@click.option("--jobs", type=click.IntRange(min=1), metavar="N",
              help="Worker processes (default: one per core).")
@click.option("--strict", is_flag=True, help="Exit with code 1 if anything was skipped.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar and no summary.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
@click.option("--wait", type=click.FloatRange(min=0), default=0, metavar="SECONDS",
              help="Wait this long for another writer to finish (default: fail at once).")
@click.option("--allow-other-files", is_flag=True,
              help="Create the index in a folder that holds other files too (newsearch never "
                   "touches them; by default it only creates an index in an empty folder).")
@backend_options
def index_cmd(paths: tuple[str, ...], index_dir: str | None, rebuild: bool, jobs: int | None,
              strict: bool, quiet: bool, as_json: bool, wait: float,
              allow_other_files: bool, backend: str | None, opensearch_url: str | None) -> None:
    """Index the articles in PATH... (folders are read recursively).

    Reads plain-text pages, Reuters SGML, CSV, JSON / JSON Lines and HTML, gzipped or not.
    Re-running updates the index: new and changed files are read, deleted files' articles
    removed, the rest left alone.
    """
    missing = [p for p in paths if not os.path.exists(p)]
    if missing:  # a typo in a path: say so rather than index nothing
        _fail(f"no such file or folder: {missing[0]}", EXIT_USER)
    show_progress = not quiet and not as_json and sys.stderr.isatty()
    with render.Progress("Indexing", enabled=show_progress) as progress:
        report = _run(lambda: index_paths(list(paths), index_dir, backend=backend,
                                          opensearch_url=opensearch_url, rebuild=rebuild,
                                          jobs=jobs, wait=wait,
                                          allow_other_files=allow_other_files,
                                          progress=progress.update))
    if not quiet:
        for notice in report.notices:
            click.echo(f"newsearch: {notice}", err=True)
    if as_json:
        _print_json(report.to_dict())
    elif not quiet:
        render.echo_skips(report.skipped, report.skipped_total)
        click.echo(report.summary())
        if report.alerts:
            click.echo(render.alerts_text(report.alerts))
    if strict and (report.skipped_total or report.skipped_before):
        sys.exit(EXIT_SKIPPED)  # also what earlier runs skipped: the index still lacks it


@main.command("stats")
@click.option("--index", "index_dir", metavar="DIR", help=INDEX_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@backend_options
def stats_cmd(index_dir: str | None, as_json: bool, backend: str | None,
              opensearch_url: str | None) -> None:
    """Articles, sections and date range of the index."""
    stats = _run(lambda: index_stats(index_dir, backend=backend, opensearch_url=opensearch_url))
    if as_json:
        _print_json(stats.to_dict())
    else:
        click.echo(render.stats_text(stats))


@main.command("search", context_settings={"ignore_unknown_options": True})
@click.argument("query")
@click.option("--index", "index_dir", metavar="DIR", help=INDEX_HELP)
@click.option("--section", "sections", multiple=True, metavar="S",
              help="Only articles in this section (repeatable; any of them).")
@click.option("--since", metavar="DATE",
              help="Only articles from this day on (YYYY-MM-DD; YYYY-MM or YYYY: its first day).")
@click.option("--until", metavar="DATE",
              help="Only articles up to this day (YYYY-MM-DD; YYYY-MM or YYYY: its last day).")
@click.option("--sort", type=click.Choice(SORTS), default="relevance", show_default=True,
              help="relevance, date (newest first) or recency (relevance, newer first).")
@click.option("--half-life", type=click.FloatRange(min=0.01), default=DEFAULT_HALF_LIFE_DAYS,
              show_default=True, metavar="DAYS", help="Half-life of --sort recency.")
@click.option("--limit", type=click.IntRange(1, MAX_PER_PAGE), default=10, show_default=True,
              metavar="N", help="Hits per page.")
@click.option("--page", type=click.IntRange(min=1), default=1, show_default=True, metavar="P",
              help="Which page of hits to show (with --limit 10, page 2 is hits 11-20).")
@click.option("--all-versions", is_flag=True,
              help="List every version of a story (default: the best one, with a count).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@backend_options
def search_cmd(query: str, index_dir: str | None, sections: tuple[str, ...], since: str | None,
               until: str | None, sort: str, half_life: float, limit: int, page: int,
               all_versions: bool, as_json: bool, backend: str | None,
               opensearch_url: str | None) -> None:
    """Search the index.

    \b
    QUERY syntax:
      oil prices            both words (all words are required)
      oil OR gas            either word; AND binds tighter than OR
      crude -opec           without a word (also NOT opec)
      "bank of england"     the exact phrase; "bank england"~3 within 3 words
      title:coffee          in the headline (also body:, author:)
      section:crude         an exact section (case-insensitive)
      tags:usa              an exact tag: places, people, keywords
      lang:ru               the language (declared by the source, else detected)
      date:1987-03          a day, month or year (UTC); date:[1987-03-01 TO *]
      econom*  almaty~      word beginnings; spelling variants
      (wheat OR corn) export    grouping
    """
    where = {"backend": backend, "opensearch_url": opensearch_url}
    results = _run(lambda: _search(index_dir, where, query, sections=list(sections),
                                   since=since, until=until, sort=sort, page=page,
                                   per_page=limit, half_life_days=half_life,
                                   all_versions=all_versions))
    if as_json:
        _print_json(results.to_dict())
    else:
        width = shutil.get_terminal_size().columns if sys.stdout.isatty() else None
        click.echo(render.results_text(results, color=render.use_color(), width=width))


def _search(index_dir: str | None, where: dict[str, Any], query: str, **kwargs: Any) -> Any:
    with open_index(index_dir, **where) as ix:
        return ix.search(query, **kwargs)


@main.command("show")
@click.argument("article_id", metavar="ID")
@click.option("--index", "index_dir", metavar="DIR", help=INDEX_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@backend_options
def show_cmd(article_id: str, index_dir: str | None, as_json: bool, backend: str | None,
             opensearch_url: str | None) -> None:
    """Print one article in full, and the other versions of its story."""
    where = {"backend": backend, "opensearch_url": opensearch_url}
    article, versions = _run(lambda: _get(index_dir, where, article_id))
    if as_json:
        _print_json(render.article_dict(article, versions))
    else:
        click.echo(render.article_text(article, versions))


def _get(index_dir: str | None, where: dict[str, Any], article_id: str) -> Any:
    with open_index(index_dir, **where) as ix:
        return ix.get(article_id), ix.versions(article_id)


@main.command("similar")
@click.argument("article_id", metavar="ID")
@click.option("--index", "index_dir", metavar="DIR", help=INDEX_HELP)
@click.option("--limit", type=click.IntRange(1, MAX_RELATED), default=DEFAULT_RELATED,
              show_default=True, metavar="N", help="How many related stories.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@backend_options
def similar_cmd(article_id: str, index_dir: str | None, limit: int, as_json: bool,
                backend: str | None, opensearch_url: str | None) -> None:
    """Stories related to article ID (its most distinctive words), best first."""
    where = {"backend": backend, "opensearch_url": opensearch_url}
    related = _run(lambda: _similar(index_dir, where, article_id, limit))
    if as_json:
        _print_json(related.to_dict())
    else:
        click.echo(render.related_text(related, color=render.use_color()))


def _similar(index_dir: str | None, where: dict[str, Any], article_id: str, limit: int) -> Any:
    with open_index(index_dir, **where) as ix:
        return ix.similar(article_id, limit=limit)


@main.command("trend", context_settings={"ignore_unknown_options": True})
@click.argument("queries", nargs=-1, required=True, metavar="QUERY...")
@click.option("--index", "index_dir", metavar="DIR", help=INDEX_HELP)
@click.option("--by", type=click.Choice(BY), default="month", show_default=True,
              help="Count per day, ISO week, month or year (UTC).")
@click.option("--section", "sections", multiple=True, metavar="S",
              help="Only articles in this section (repeatable; any of them).")
@click.option("--since", metavar="DATE", help="From this day on (YYYY-MM-DD, YYYY-MM, YYYY).")
@click.option("--until", metavar="DATE", help="Up to this day (YYYY-MM-DD, YYYY-MM, YYYY).")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV: period,<query>,...")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@backend_options
def trend_cmd(queries: tuple[str, ...], index_dir: str | None, by: str,
              sections: tuple[str, ...], since: str | None, until: str | None, as_csv: bool,
              as_json: bool, backend: str | None, opensearch_url: str | None) -> None:
    """Articles matching each QUERY per period, as a bar chart (several queries side by
    side: trend oil gas). Empty periods count 0; undated articles are not counted."""
    if as_csv and as_json:
        _fail("choose one of --csv and --json", EXIT_USER)
    where = {"backend": backend, "opensearch_url": opensearch_url}
    trend = _run(lambda: _trend(index_dir, where, list(queries), by=by,
                                sections=list(sections), since=since, until=until))
    if as_json:
        _print_json(trend.to_dict())
    elif as_csv:
        click.echo(trend.to_csv(), nl=False)
    else:
        tty = sys.stdout.isatty()
        width = shutil.get_terminal_size().columns if tty else 80
        click.echo(render.trend_text(trend, color=render.use_color(), width=width,
                                     bars="█" if tty else "#"))


def _trend(index_dir: str | None, where: dict[str, Any], queries: list[str],
           **kwargs: Any) -> Any:
    with open_index(index_dir, **where) as ix:
        return ix.trend(queries, **kwargs)


@main.group("watch")
def watch_group() -> None:
    """Saved searches: matched against the articles every index run adds."""


@watch_group.command("add", context_settings={"ignore_unknown_options": True})
@click.argument("name")
@click.argument("query")
@click.option("--index", "index_dir", metavar="DIR", help=INDEX_HELP)
@click.option("--section", "sections", multiple=True, metavar="S",
              help="Only articles in this section (repeatable; any of them).")
@backend_options
def watch_add_cmd(name: str, query: str, index_dir: str | None,
                  sections: tuple[str, ...], backend: str | None,
                  opensearch_url: str | None) -> None:
    """Save QUERY as the watch NAME."""
    _run(lambda: add_watch(index_dir, name, query, sections=list(sections), backend=backend,
                           opensearch_url=opensearch_url))
    click.echo(f"watching “{query}” as {name}")


@watch_group.command("list")
@click.option("--index", "index_dir", metavar="DIR", help=INDEX_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@backend_options
def watch_list_cmd(index_dir: str | None, as_json: bool, backend: str | None,
                   opensearch_url: str | None) -> None:
    """The saved searches."""
    items = _run(lambda: watches(index_dir, backend=backend, opensearch_url=opensearch_url))
    if as_json:
        _print_json({"watches": [w.to_dict() for w in items]})
    else:
        click.echo(render.watches_text(items))


@watch_group.command("remove")
@click.argument("name")
@click.option("--index", "index_dir", metavar="DIR", help=INDEX_HELP)
@backend_options
def watch_remove_cmd(name: str, index_dir: str | None, backend: str | None,
                     opensearch_url: str | None) -> None:
    """Delete the watch NAME."""
    _run(lambda: remove_watch(index_dir, name, backend=backend, opensearch_url=opensearch_url))


@watch_group.command("check")
@click.argument("name", required=False)
@click.option("--index", "index_dir", metavar="DIR", help=INDEX_HELP)
@click.option("--since-last", is_flag=True,
              help="Articles indexed since the last check (the default); moves the mark.")
@click.option("--since", metavar="DATE",
              help="Articles indexed since DATE (YYYY-MM-DD, or an ISO date and time).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@backend_options
def watch_check_cmd(name: str | None, index_dir: str | None, since_last: bool,
                    since: str | None, as_json: bool, backend: str | None,
                    opensearch_url: str | None) -> None:
    """New articles that the watches (or watch NAME) find."""
    if since_last and since:
        _fail("choose one of --since-last and --since", EXIT_USER)
    alerts = _run(lambda: check_watches(index_dir, [name] if name else None, since=since,
                                        backend=backend, opensearch_url=opensearch_url))
    if as_json:
        _print_json({"alerts": [a.to_dict() for a in alerts]})
    else:
        click.echo(render.alerts_text(alerts) if alerts else "No watches.")


@main.command("serve")
@click.option("--index", "index_dir", metavar="DIR", help=INDEX_HELP)
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (0.0.0.0: every interface).")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="Port to listen on.")
@backend_options
def serve_cmd(index_dir: str | None, host: str, port: int, backend: str | None,
              opensearch_url: str | None) -> None:
    """Serve the search page and the JSON API (needs the web extra: in the checkout,
    `.venv/bin/pip install -e '.[web]'`)."""
    try:
        from .web import serve
    except ImportError as exc:
        _fail(f"serving needs the web extra ({exc}): in the newsearch checkout, run "
              f"`{_pip()} install -e '.[web]'`", EXIT_USER)
    _run(lambda: serve(index_dir, host=host, port=port, backend=backend,
                       opensearch_url=opensearch_url))


def _pip() -> str:
    """The pip of the Python running newsearch, as the user would type it."""
    exe = sys.executable
    pip = os.path.join(os.path.dirname(exe), "pip")
    if os.path.exists(pip):
        rel = os.path.relpath(pip)
        return rel if not rel.startswith("..") else pip
    return f"{exe} -m pip"


if __name__ == "__main__":  # pragma: no cover
    main()
