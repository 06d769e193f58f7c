"""Merge a built index's segments again into groups of at most CAP documents (an experiment:
how a query path does on fewer segments, without rebuilding).

    PYTHONPATH=<checkout>/src .venv/bin/python -m bench.remerge INDEX CAP

Works on INDEX in place (copy it first): smallest segments first, each group filled up to
CAP documents, merged as a commit would (``merge.merge_segments``), then committed as a new
generation with the same manifest and cluster file. Prints the groups, each merge's time and
the process's peak RSS (which counts the mapped segments it read).
"""

from __future__ import annotations

import resource
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index

from newsearch.backends.whoosh.merge import merge_segments
from newsearch.backends.whoosh.segments import NewsSegmentWriter
from newsearch.backends.whoosh.storage import write_toc


def main() -> None:
    folder, cap = Path(sys.argv[1]), int(sys.argv[2])
    ix = whoosh_index.open_dir(str(folder))
    groups: list[list[Any]] = [[]]
    for s in sorted(ix._segments(), key=lambda s: s.doc_count()):
        if groups[-1] and sum(x.doc_count() for x in groups[-1]) + s.doc_count() > cap:
            groups.append([])
        groups[-1].append(s)
    print("groups", [[s.doc_count() for s in g] for g in groups], flush=True)

    def policy(writer: Any, segments: list[Any]) -> list[Any]:
        out = []
        for g in groups:
            if len(g) == 1:
                out.append(g[0])
                continue
            t = time.perf_counter()
            out.append(merge_segments(writer.storage, writer.schema, writer.indexname, g))
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
            print(f"merged {sum(s.doc_count() for s in g):,} documents in "
                  f"{time.perf_counter() - t:.1f} s, peak RSS {peak} MB", flush=True)
        return out

    w = NewsSegmentWriter(ix)
    old = w.generation - 1
    final = w._merge_segments(policy, None, None)
    w._close_segment()
    for pattern in ("newsearch-manifest-%d.json", "newsearch-clusters-%d.pkl"):
        if (folder / (pattern % old)).exists():
            shutil.copy(folder / (pattern % old), folder / (pattern % w.generation))
    write_toc(w, list(final))
    w._finish()
    print("segments now", sorted(s.doc_count() for s in whoosh_index.open_dir(str(folder))
                                 ._segments()))


if __name__ == "__main__":
    main()
