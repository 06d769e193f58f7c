"""Ranking settings side by side: newsearch alone on the suite's sets, each corpus indexed once.

    python -m bench.sweep [--corpora time,cranfield,adi,npl,cacm] [--held-out]
                          ["NAME: module.CONSTANT=value, ..."]...

Each quoted argument is one setting: module constants set for its run and put back after
it (the ranking reads its constants at query time, so one index serves every setting). A
run without settings measures the shipped defaults; ``base`` (the defaults) is always the
first row. For example, RM3 with the query's own share at 0.8 and with three feedback
articles::

    python -m bench.sweep "keep 0.8: newsearch.feedback.FEEDBACK_KEEP=0.8" \\
        "3 articles: newsearch.feedback.FEEDBACK_DOCS=3,
                     newsearch.backends.whoosh.index.FEEDBACK_DOCS=3"

(a constant imported by name into another module is set in each: ``FEEDBACK_DOCS`` above).
Measures and queries are those of ``bench/test_effectiveness.py`` (its newsearch engine and
evaluation), so a setting's figures are what the suite would give; the peers are not run.
Only the tuning sets are run unless ``--held-out``. Prints MAP / nDCG@10 per collection and
MRR per known-item set, and writes every figure to ``bench/out/sweep.json``.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import json
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .conftest import OUT
from .evalsets import ADHOC

Setting = tuple[str, dict[str, Any]]  # (name, {"module.CONSTANT": value})


def parse_setting(text: str) -> Setting:
    """``"name: a.b.C=1, a.d.E=0.5"`` as a name and its constants."""
    name, _, body = text.partition(":")
    if not body.strip():
        raise ValueError(f"{text!r}: expected 'NAME: module.CONSTANT=value, ...'")
    values = {}
    for part in body.split(","):
        key, _, value = part.partition("=")
        if "." not in key.strip() or not value.strip():
            raise ValueError(f"{part.strip()!r}: expected module.CONSTANT=value")
        values[key.strip()] = ast.literal_eval(value.strip())
    return name.strip(), values


@contextmanager
def applied(values: dict[str, Any]) -> Iterator[None]:
    old = {}
    try:
        for key, value in values.items():
            module, attr = key.rsplit(".", 1)
            m = importlib.import_module(module)
            if not hasattr(m, attr):
                raise AttributeError(f"{module} has no {attr}")
            old[key] = getattr(m, attr)
            setattr(m, attr, value)
        yield
    finally:
        for key, value in old.items():
            module, attr = key.rsplit(".", 1)
            setattr(importlib.import_module(module), attr, value)


def sweep(corpora: list[str], settings: list[Setting],
          held_out: bool = False) -> dict[str, dict[str, dict[str, float]]]:
    """{setting: {set: {measure: mean}}} for every setting on every set of ``corpora``."""
    from . import test_effectiveness as te

    out: dict[str, dict[str, dict[str, float]]] = {name: {} for name, _ in settings}
    for name in corpora:
        c = te.corpus(name)
        with tempfile.TemporaryDirectory(prefix="bench-sweep-") as tmp:
            started = time.perf_counter()
            engine = te.Newsearch(c, Path(tmp))
            print(f"{name}: indexed in {time.perf_counter() - started:.1f} s",
                  file=sys.stderr, flush=True)
            try:
                for setting, values in settings:
                    with applied(values):
                        for qs in c.sets:
                            if qs.held_out and not held_out:
                                continue
                            depth = te.DEPTH[qs.kind]
                            run = {q: engine.rank(text, depth, {d for d, r in
                                                                qs.qrels.get(q, {}).items()
                                                                if r >= 1})
                                   for q, text in qs.queries.items()}
                            out[setting][qs.name] = te.evaluate(qs, run)["means"]
            finally:
                engine.close()
        # A long sweep shows each corpus's rows as soon as they are measured.
        print(table({k: {s: m for s, m in v.items() if s in {q.name for q in c.sets}}
                     for k, v in out.items()}), file=sys.stderr, flush=True)
    return out


def table(results: dict[str, dict[str, dict[str, float]]]) -> str:
    sets = list(dict.fromkeys(s for r in results.values() for s in r))
    width = max(len(s) for s in [*results, "setting"])
    lines = ["setting".ljust(width) + "".join(s.rjust(max(15, len(s) + 2)) for s in sets)]
    for name, r in results.items():
        cells = []
        for s in sets:
            m = r.get(s, {})
            cell = (f"{m['MAP']:.4f}/{m['nDCG@10']:.4f}" if "MAP" in m
                    else f"{m['MRR']:.4f}" if "MRR" in m else "")
            cells.append(cell.rjust(max(15, len(s) + 2)))
        lines.append(name.ljust(width) + "".join(cells))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.sweep", description=__doc__.split("\n")[0])
    p.add_argument("settings", nargs="*", help="'NAME: module.CONSTANT=value, ...'")
    p.add_argument("--corpora", default=",".join(ADHOC),
                   help="comma-separated: time, cranfield, adi, npl, cacm, bbc, reuters, ria")
    p.add_argument("--held-out", action="store_true", help="also the held-out known-item sets")
    args = p.parse_args(argv)
    settings: list[Setting] = [("base", {})]
    try:
        settings += [parse_setting(s) for s in args.settings]
    except (ValueError, SyntaxError) as e:
        p.error(str(e))
    results = sweep([c.strip() for c in args.corpora.split(",") if c.strip()], settings,
                    args.held_out)
    print(table(results))
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "sweep.json").write_text(json.dumps(
        {"settings": dict(settings), "results": results}, indent=1) + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
