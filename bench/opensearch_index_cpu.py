"""Wall time and client CPU of one index run of Reuters-21578 into a fresh cluster index.

    scripts/opensearch-cluster.sh start
    PYTHONPATH=<checkout>/src .venv/bin/python bench/opensearch_index_cpu.py

CPU is this process and its workers (``getrusage(SELF + CHILDREN)``), not the cluster's
JVMs; run two checkouts alternately to compare them on a shared machine.
"""

from __future__ import annotations

import resource
import time
import uuid
from pathlib import Path

import newsearch
from newsearch import index_paths
from opensearch_scratch import scratch

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "reuters21578"


def _cpu() -> float:
    a = resource.getrusage(resource.RUSAGE_SELF)
    b = resource.getrusage(resource.RUSAGE_CHILDREN)
    return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime


def main() -> None:
    with scratch(f"bench-idx-{uuid.uuid4().hex[:6]}") as s:
        cpu, wall = _cpu(), time.perf_counter()
        report = index_paths([CORPUS], s.where)
        print(f"{Path(newsearch.__file__).parent}: {report.documents} articles, wall "
              f"{time.perf_counter() - wall:.1f} s, client CPU {_cpu() - cpu:.1f} s")


if __name__ == "__main__":
    main()
