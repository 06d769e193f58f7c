"""CPU seconds of one index run (this process and its worker processes), to compare two
checkouts, or a run with and without story clusters, on a loaded machine where wall time is
noise.

    PYTHONPATH=<checkout>/src .venv/bin/python bench/index_cpu.py FOLDER [--jobs N]
    .venv/bin/python bench/index_cpu.py FOLDER --no-clusters      # one run, clusters off
    .venv/bin/python bench/index_cpu.py FOLDER --compare-clusters --rounds 3

``--no-clusters`` runs the same code with the story sketches and their assignment switched
off (patched here, before the workers fork: shipped code has no such switch), so "with vs
without" compares one commit with itself. ``--compare-clusters`` runs both, each in a fresh
process, alternating for ``--rounds`` rounds, and prints the best of each and their ratio.
Run two checkouts alternately, a few times each (bench/README.md, issue 16).
"""

from __future__ import annotations

import argparse
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _cpu() -> float:
    return _own() + _workers()


def _own() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    return own.ru_utime + own.ru_stime


def _workers() -> float:
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)  # the workers, once joined
    return kids.ru_utime + kids.ru_stime


def switch_clusters_off() -> None:
    """No sketches in the workers and no LSH in the main process: each article a cluster of
    its own, numbered as it arrives (what the index held before story clusters)."""
    import newsearch.runs as runs
    from newsearch.clusters import Clusters

    def assign(self: Clusters, article_id: str, sig: object, keys: object = None) -> int:
        self.next += 1
        return self.next - 1

    # No word hashes: no text is sketched (sketching what is left costs a few numpy calls
    # per part). Checkouts before runs.sketch_parts called signatures() here.
    runs.word_hashes = lambda words: None  # type: ignore[assignment]
    if hasattr(runs, "signatures"):
        runs.signatures = lambda hashes: [None] * len(hashes)  # type: ignore[attr-defined]
    Clusters.assign = assign  # type: ignore[method-assign]
    Clusters.remove = lambda self, ids: None  # type: ignore[method-assign]


def run_once(folder: str, jobs: int) -> float:
    import newsearch

    tmp = Path(tempfile.mkdtemp(prefix="index-cpu-"))
    try:
        cpu, own, wall = _cpu(), _own(), time.perf_counter()
        report = newsearch.index_paths([folder], tmp / "index", jobs=jobs)
        used = _cpu() - cpu
        print(f"{Path(newsearch.__file__).parents[1]}: {report.documents} docs, "
              f"cpu {used:.2f} s (this process {_own() - own:.2f} s), "
              f"wall {time.perf_counter() - wall:.2f} s", flush=True)
        return used
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def compare(folder: str, jobs: int, rounds: int) -> None:
    """Runs with and without clusters alternately, each in a fresh interpreter."""
    cpu: dict[str, list[float]] = {"with": [], "without": []}
    for _ in range(rounds):
        for label, extra in (("with", []), ("without", ["--no-clusters"])):
            out = subprocess.run([sys.executable, __file__, folder, "--jobs", str(jobs), *extra],
                                 check=True, capture_output=True, text=True).stdout
            m = re.search(r"cpu ([\d.]+) s", out)
            assert m, out
            cpu[label].append(float(m.group(1)))
            print(f"{label} clusters: {out.strip()}", flush=True)
    best = {k: min(v) for k, v in cpu.items()}
    print(f"best of {rounds}: with {best['with']:.2f} s, without {best['without']:.2f} s, "
          f"with / without {best['with'] / best['without']:.3f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("folder")
    ap.add_argument("legacy_jobs", nargs="?", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--no-clusters", action="store_true")
    ap.add_argument("--compare-clusters", action="store_true")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    jobs = args.legacy_jobs or args.jobs
    if args.compare_clusters:
        compare(args.folder, jobs, args.rounds)
        return
    if args.no_clusters:
        switch_clusters_off()
    run_once(args.folder, jobs)


if __name__ == "__main__":
    main()
