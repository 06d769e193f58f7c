"""Memory of the results cache under many distinct large queries, in a real server.

    python bench/cache_memory.py [--corpus DIR] [--queries N] [--per-page N]
                                 [--cache-bytes BYTES ...]

The BBC corpus (2,225 articles) is indexed into a temporary folder; then, for each cache
budget, a fresh server (``create_app`` over ``open_index(..., results_cache_bytes=B)`` under
uvicorn, in its own process) answers 20 warm-up searches and N distinct ``per_page=100``
searches (pairs of common words ORed, so that each fills its page); the server's resident
memory (VmRSS) is read before and after. A budget of 0 turns the cache off; ``1T`` stands
for no byte bound (the cache held 2,048 pages whatever their size before the bound).
Last, what the bound costs on the query path: the size estimate of a page (done for every
search that is not answered from the cache) against the search itself, in one process.

Not pytest: it starts servers and takes minutes. Figures and the command are in
bench/README.md.
"""

from __future__ import annotations

import argparse
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from newsearch import index_paths  # noqa: E402

DEFAULT_CORPUS = ROOT.parent / "shared" / "corpora" / "bbc"
WORDS = (
    "government minister market music film game growth company people world year time first "
    "new last told plans says election labour prices sales record win club phone users "
    "online bank firm deal chief party season star band show technology economy report "
    "public million countries service week back well next court police health children "
    "school tax budget oil china europe tv award album chart match team coach"
).split()
SERVER = """
import uvicorn
from newsearch import open_index
from newsearch.web import create_app
uvicorn.run(create_app(open_index({index!r}, results_cache_bytes={budget})),
            host="127.0.0.1", port={port}, log_level="warning")
"""


def _bytes(text: str) -> int:
    units = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}
    m = re.fullmatch(r"(\d+)([KMGT]?)", text.upper())
    if not m:
        raise argparse.ArgumentTypeError(f"not a size: {text}")
    return int(m.group(1)) * units[m.group(2)]


def _rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    m = re.search(r"VmRSS:\s+(\d+)", status)
    return int(m.group(1)) / 1024 if m else float("nan")


def run(index: Path, budget: int, queries: list[str], per_page: int) -> str:
    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code = SERVER.format(index=str(index), budget=budget, port=port)
    proc = subprocess.Popen([sys.executable, "-c", code])
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(url + "/api/stats", timeout=2)
                break
            except httpx.TransportError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the server did not start") from None
                time.sleep(0.2)
        with httpx.Client(base_url=url, timeout=120) as c:
            for q in queries[:20]:
                c.get("/api/search", params={"q": q, "per_page": 10})
            before = _rss_mb(proc.pid)
            started = time.perf_counter()
            for q in queries:
                res = c.get("/api/search", params={"q": q, "per_page": per_page})
                res.raise_for_status()
            seconds = time.perf_counter() - started
            after = _rss_mb(proc.pid)
        label = "no byte bound" if budget >= 2**40 else f"{budget / 2**20:g} MB"
        return (f"| {label} | {len(queries):,} | {before:.0f} | {after:.0f} | "
                f"+{after - before:.0f} | {seconds:.0f} |")
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def estimate_cost(index: Path) -> str:
    import timeit

    from newsearch import open_index
    from newsearch.search import _results_bytes

    out = []
    with open_index(index, results_cache=0) as ix:
        for per_page in (10, 100):
            page = ix.search("government OR music", per_page=per_page)
            est = min(timeit.repeat(lambda p=page: _results_bytes(p), number=200, repeat=5))
            run = min(timeit.repeat(lambda n=per_page: ix.search("government OR music",
                                                                   per_page=n),
                                    number=5, repeat=3))
            out.append(f"per_page={per_page}: estimate {est / 200 * 1e6:.0f} us, "
                       f"search {run / 5 * 1e3:.1f} ms")
    return "; ".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--queries", type=int, default=2048)
    ap.add_argument("--per-page", type=int, default=100)
    ap.add_argument("--cache-bytes", type=_bytes, nargs="+", default=[2**40, 32 * 2**20])
    args = ap.parse_args()
    pairs = [f"{a} OR {b}" for i, a in enumerate(WORDS) for b in WORDS[i + 1:]]
    queries = pairs[: args.queries]
    with tempfile.TemporaryDirectory(prefix="newsearch-cache-") as tmp:
        index = Path(tmp) / "index"
        report = index_paths([args.corpus], index)
        print(f"{report.documents:,} articles from {args.corpus}")
        print("| results cache budget | searches | RSS before MB | RSS after MB | growth MB | s |")
        print("|---|---|---|---|---|---|")
        for budget in args.cache_bytes:
            print(run(index, budget, queries, args.per_page), flush=True)
        print(estimate_cost(index))


if __name__ == "__main__":
    main()
