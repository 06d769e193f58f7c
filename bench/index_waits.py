"""Where an index run's time goes: the main process's waits and work, and how busy the
workers were.

    .venv/bin/python -m bench.index_waits FOLDER [--jobs 2]
    .venv/bin/python -m bench.index_waits --mix N DIR     # write the scale benchmark's first
                                                          # N articles as JSON Lines into DIR

The run is ``index_paths`` with its defaults; the main process's calls are timed by patching
them here (wall clock): waiting for the workers' parts (``next_part``), deciding and
assigning clusters, sending writes, waiting for the workers to finish their segments
(``flush``) and committing (the generation, merges, the manifest and cluster files). The
CPU of the main process and of the workers comes from ``getrusage``; "workers busy" is their
CPU over ``jobs`` x the run's wall time (1.0: every core analysing all the time).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

SPENT: defaultdict[str, float] = defaultdict(float)
CALLS: defaultdict[str, int] = defaultdict(int)


def _timed(owner: Any, name: str, label: str) -> None:
    inner: Callable[..., Any] = getattr(owner, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t = time.perf_counter()
        try:
            return inner(*args, **kwargs)
        finally:
            SPENT[label] += time.perf_counter() - t
            CALLS[label] += 1

    setattr(owner, name, wrapper)


def _watch_workers() -> None:
    """Each worker (forked after this patch) prints how long it waited for a message with
    nothing to do, and its CPU, when it ends."""
    from newsearch.backends.whoosh import segments

    receive, worker_main = segments._receive, segments._worker_main
    idle = [0.0]

    def timed_receive(conn: Any, parent_pid: int) -> Any:
        t = time.perf_counter()
        try:
            return receive(conn, parent_pid)
        finally:
            idle[0] += time.perf_counter() - t

    sending = [0.0]

    class TimedConnection:
        def __init__(self, conn: Any) -> None:
            self._conn = conn

        def __getattr__(self, name: str) -> Any:
            return getattr(self._conn, name)

        def send(self, obj: Any) -> None:
            t = time.perf_counter()
            try:
                self._conn.send(obj)
            finally:
                sending[0] += time.perf_counter() - t

    def watched_main(conn: Any, *args: Any) -> None:
        t = time.perf_counter()
        try:
            worker_main(TimedConnection(conn), *args)
        finally:
            alive = time.perf_counter() - t
            print(f"  worker {os.getpid()}: alive {alive:.1f} s, waited for the main process "
                  f"{idle[0]:.1f} s ({idle[0] / alive:.0%}), sending {sending[0]:.1f} s, for a "
                  f"core {_run_delay():.1f} s, CPU {_usage(resource.RUSAGE_SELF):.1f} s",
                  flush=True)

    segments._receive = timed_receive  # type: ignore[assignment]
    segments._worker_main = watched_main  # type: ignore[assignment]


def _run_delay() -> float:
    """Seconds this process's main thread was ready to run but waited for a core (the
    machine's other load), from the kernel's scheduler statistics."""
    try:
        with open("/proc/thread-self/schedstat") as fh:
            return int(fh.read().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return float("nan")


def _usage(who: int) -> float:
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


def run(folder: str, jobs: int) -> None:
    import newsearch
    from newsearch import runs
    from newsearch.backends.whoosh import indexer
    from newsearch.backends.whoosh.segments import BuilderPool

    _timed(BuilderPool, "next_part", "waiting for parts (next_part)")
    _timed(BuilderPool, "write", "sending writes")
    _timed(BuilderPool, "flush", "waiting for segments (flush)")
    _timed(runs._Run, "decide", "deciding (duplicates, manifest)")
    _timed(runs._Run, "marks", "clusters and index times (marks)")
    run_class = next(c for c in vars(indexer).values()
                     if isinstance(c, type) and issubclass(c, runs._Run) and c is not runs._Run)
    _timed(run_class, "commit", "committing (merges, manifest, clusters)")
    _watch_workers()
    tmp = Path(tempfile.mkdtemp(prefix="index-waits-"))
    try:
        main0, kids0 = _usage(resource.RUSAGE_SELF), _usage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        report = newsearch.index_paths([folder], tmp / "index", jobs=jobs)
        wall = time.perf_counter() - t
        main = _usage(resource.RUSAGE_SELF) - main0
        kids = _usage(resource.RUSAGE_CHILDREN) - kids0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    n = report.added + report.updated
    print(f"  main process: waited for a core {_run_delay():.1f} s")
    print(f"{Path(newsearch.__file__).parents[1]}: {n:,} articles in {wall:.1f} s "
          f"({n / wall:,.0f}/s); CPU main {main:.1f} s, workers {kids:.1f} s "
          f"({n / (main + kids):,.0f} articles per CPU-second); "
          f"workers busy {kids / (jobs * wall):.0%}")
    for label, spent in sorted(SPENT.items(), key=lambda kv: -kv[1]):
        print(f"  {label:45s} {spent:7.2f} s  {spent / wall:4.0%}  ({CALLS[label]:,} calls)")
    accounted = sum(SPENT.values())
    print(f"  {'the rest (walk, plan, start, close)':45s} {wall - accounted:7.2f} s")


def write_mix(n: int, folder: str) -> None:
    from bench.test_scale import _row, _rows, real_articles, write_jsonl

    rows = [_row(a) for a in real_articles()]
    print(f"{write_jsonl(Path(folder), _rows(rows, n)):,} articles written to {folder}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("folder")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--mix", type=int, metavar="N")
    args = ap.parse_args()
    if args.mix:
        write_mix(args.mix, args.folder)
    else:
        run(args.folder, args.jobs)


if __name__ == "__main__":
    main()
