"""CPU seconds of one index run (this process and its worker processes), to compare two
checkouts on a loaded machine where wall time is noise.

    PYTHONPATH=<checkout>/src .venv/bin/python bench/index_cpu.py FOLDER [JOBS]

Run the two checkouts alternately, a few times each (bench/README.md, issue 16).
"""

from __future__ import annotations

import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import newsearch


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)  # the workers, once joined
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> None:
    folder = sys.argv[1]
    jobs = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    tmp = Path(tempfile.mkdtemp(prefix="index-cpu-"))
    try:
        cpu, wall = _cpu(), time.perf_counter()
        report = newsearch.index_paths([folder], tmp / "index", jobs=jobs)
        print(f"{Path(newsearch.__file__).parents[1]}: {report.documents} docs, "
              f"cpu {_cpu() - cpu:.2f} s, wall {time.perf_counter() - wall:.2f} s")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
