"""What the web tests share: a small index (the sample corpus plus a few literal articles)
and the app under a real uvicorn on a free loopback port, in a background thread."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from newsearch import index_paths

from .conftest import SAMPLE

pytest.importorskip("fastapi", reason="the web extra is not installed")
uvicorn = pytest.importorskip("uvicorn", reason="the web extra is not installed")

from newsearch.web import create_app  # noqa: E402

SCRIPT = "<script>alert(1)</script>"

# id, title, body, date, section
ARTICLES = [
    ("markup", "Markup <b>in</b> a headline & more",
     f"Some sites send {SCRIPT} inside the text of a page about the cyberattack & other "
     "<img src=x onerror=alert(2)> tags.", "2023-06-20T08:00:00Z", "Tech"),
    ("bridge-1", "Bridge reopens after repairs",
     "The old bridge over the river reopened to traffic after two years of repairs.",
     "2023-04-02T09:00:00Z", "Local"),
    ("bridge-2", "Bridge tolls to rise",
     "Tolls on the bridge will rise next year, the transport authority said.",
     "2023-05-11T09:00:00Z", "Business"),
    ("bridge-3", "A bridge too far for the budget",
     "The council shelved the plan for a second bridge to save money.",
     "2022-11-30T09:00:00Z", "Local"),
] + [
    (f"harbour-{n}", f"Harbour report {n}",
     f"Ships waited at the harbour on day {n} while cranes were repaired.",
     f"2023-07-{n:02d}T06:00:00Z", "Shipping" if n % 2 else "Local")
    for n in range(1, 26)
]


# An article whose own URL is a script: the page must not make it a link.
EVIL_URL = {"id": "evil-url", "title": "Link test", "body": "A story about a lighthouse keeper.",
            "date": "2023-08-01", "section": "Local", "url": "javascript:alert(3)"}


def write_articles(folder: Path, articles: list[tuple[str, str, str, str | None, str]],
                   name: str = "feed.jsonl", extra: tuple[dict[str, str], ...] = ()) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    records = [{"id": i, "title": t, "body": b, "date": d, "section": s}
               for i, t, b, d, s in articles]
    path.write_text("\n".join(json.dumps(r) for r in [*records, *extra]), encoding="utf-8")
    return path


def build_index(root: Path) -> Path:
    """Index the committed sample corpus and :data:`ARTICLES` into ``root/index``."""
    feed = write_articles(root / "literal", ARTICLES, extra=(EVIL_URL,))
    index = root / "index"
    index_paths([SAMPLE, feed], index, jobs=1)
    return index


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    """``app`` served by uvicorn on 127.0.0.1 (a port the OS picks) in a daemon thread."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self._sock = socket.socket()
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self.port = int(self._sock.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
        self.server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self.server.run,
                                        kwargs={"sockets": [self._sock]}, daemon=True)

    def start(self) -> LiveServer:
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self._thread.join(timeout=10)
        self._sock.close()


@contextmanager
def live_server(index: Any) -> Iterator[LiveServer]:
    server = LiveServer(create_app(index)).start()
    try:
        yield server
    finally:
        server.stop()


@dataclass
class ServedByCli:
    url: str
    proc: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text("utf-8", errors="replace")


@contextmanager
def served_by_cli(index: Path, *args: str) -> Iterator[ServedByCli]:
    """``newsearch serve --index INDEX --port P ARGS`` in a subprocess, once it answers.
    Its output goes to a file (a pipe nobody reads would fill up and block the server)."""
    import httpx

    port = free_port()
    log = Path(tempfile.mkdtemp(prefix="newsearch-serve-")) / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "newsearch.cli", "serve", "--index", str(index),
             "--port", str(port), *args], stdout=out, stderr=subprocess.STDOUT)
    served = ServedByCli(f"http://127.0.0.1:{port}", proc, log)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(served.url + "/api/stats", timeout=2)
                break
            except httpx.TransportError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    proc.kill()
                    proc.wait()
                    raise RuntimeError(f"newsearch serve did not start:\n{served.output()}") \
                        from None
                time.sleep(0.1)
        yield served
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


# --- load: many clients at once against a live server --------------------------------------------

LOAD_PATHS = [
    "/api/search?q=harbour",
    "/api/search?q=bridge&sort=date",
    "/api/search?q=almaty",
    "/api/search?q=%D0%90%D0%BB%D0%BC%D0%B0%D1%82%D1%8B",  # Алматы
    "/api/search?q=harbour&section=Local&page=2&per_page=5",
    "/api/search?q=%22old+bridge%22",
    "/api/search?q=repair*&sort=recency",
    "/api/search?q=brigde",
    "/api/stats",
    "/?q=harbour",
    "/?q=bridge+OR+harbour&section=Shipping",
    "/",
]


@dataclass
class LoadReport:
    requests: int
    seconds: float
    latencies_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else 0.0

    def summary(self) -> str:
        return (f"{self.requests} requests in {self.seconds:.1f} s "
                f"({self.requests / self.seconds:.0f}/s), {len(self.errors)} errors, "
                f"p50 {self.percentile(50):.1f} ms, p95 {self.percentile(95):.1f} ms")


def run_load(base_url: str, *, clients: int = 20, requests_each: int = 50,
             paths: list[str] = LOAD_PATHS) -> LoadReport:
    """``clients`` threads, each with its own HTTP connection, send ``requests_each`` GETs
    (cycling through ``paths`` from a different start) as fast as answers come; every answer
    must be a 200. Bounded: each request times out after 30 s."""
    import httpx

    lock = threading.Lock()
    latencies: list[float] = []
    errors: list[str] = []
    start = threading.Barrier(clients)

    def client(n: int) -> None:
        with httpx.Client(base_url=base_url, timeout=30) as c:
            start.wait()
            for i in range(requests_each):
                path = paths[(n + i) % len(paths)]
                t0 = time.perf_counter()
                try:
                    res = c.get(path)
                    ok = res.status_code == 200 and len(res.content) > 0
                    problem = None if ok else f"{path}: HTTP {res.status_code}"
                except httpx.HTTPError as exc:
                    problem = f"{path}: {type(exc).__name__} {exc}"
                elapsed = (time.perf_counter() - t0) * 1000
                with lock:
                    latencies.append(elapsed)
                    if problem:
                        errors.append(problem)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return LoadReport(clients * requests_each, time.perf_counter() - t0, latencies, errors)
