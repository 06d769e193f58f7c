"""Articles per second indexing one corpus folder with whichever newsearch is importable.

    .venv/bin/python bench/index_rate.py ../shared/corpora/cyrillic/ria_news [ROUNDS]

``index_paths`` with its defaults (one worker process per core), best of ROUNDS (default 1)
into a fresh temporary index. To compare two versions under the same load, run them at the
same time, each with its own ``PYTHONPATH=<checkout>/src``.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

import newsearch


def main() -> None:
    corpus = sys.argv[1]
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    best = float("inf")
    articles = 0
    for _ in range(rounds):
        tmp = Path(tempfile.mkdtemp(prefix="index-rate-"))
        try:
            started = time.perf_counter()
            report = newsearch.index_paths([corpus], tmp / "index")
            best = min(best, time.perf_counter() - started)
            articles = report.documents + report.duplicates
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"{Path(newsearch.__file__).parents[1]} {corpus}: {articles} articles, "
          f"best {best:.2f} s, {articles / best:,.0f} articles/s")


if __name__ == "__main__":
    main()
