"""Time and peak memory of `newsearch index` on small hostile files (not pytest).

    python bench/hostile_inputs.py [CASE ...] [--timeout S] [--mem-cap MB] [--jobs N]
    python bench/hostile_inputs.py --corpus DIR [--rebuild] [--timeout S] [--mem-cap MB]
    python bench/hostile_inputs.py --make-scale N DIR

The second form measures the same way one run over a whole folder (into a new index, then,
with ``--rebuild``, a rebuild of it); the third writes the scale benchmark's corpus of N
articles (bench/test_scale.py: every real article, replicated to N) as JSON Lines into DIR.

Each case writes one hostile file into a fresh folder and runs the installed CLI,
``newsearch index FOLDER --index INDEX --json``, with its defaults, in a process session of
its own. Every 0.1 s the script reads ``VmHWM`` (peak resident memory) of every process in
that session from ``/proc``, so the peak is per process (the indexer or one of its workers)
and is known even for a run that has to be stopped. A run is stopped (its whole session
killed) when it passes ``--timeout`` seconds or when one process passes ``--mem-cap`` MB: the
machine is shared, and the figures of such a run are lower bounds (">").

Printed per case: seconds, peak MB of the largest process (and of the main process and the
largest worker), exit code, skips reported, size of the JSON report, and the first skip
reason.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

MB = 2**20


def _write(name: str, data: bytes) -> Callable[[Path], None]:
    def make(folder: Path) -> None:
        (folder / name).write_bytes(data)

    return make


def _lines(name: str, header: bytes, line: bytes, count: int) -> Callable[[Path], None]:
    def make(folder: Path) -> None:
        with open(folder / name, "wb") as fh:
            fh.write(header)
            step = 100_000
            for start in range(0, count, step):
                fh.write(line * min(step, count - start))

    return make


def _tiny_records(count: int) -> Callable[[Path], None]:
    def make(folder: Path) -> None:
        with open(folder / "tiny.jsonl", "w", encoding="utf-8") as fh:
            for i in range(count):
                fh.write(f'{{"title":"t{i}","body":"b{i}"}}\n')

    return make


def _unclosed_titles(size: int) -> bytes:
    head = b'<REUTERS NEWID="1"><DATE>2-MAR-1987</DATE><TEXT>'
    return head + b"<TITLE>x" * (size // 8) + b"</TEXT></REUTERS>\n"


def _links(size: int) -> bytes:
    link = b'<a href="/ports/harbour">Harbour news</a> '
    return b"<html><body><p>" + link * (size // len(link)) + b"</p></body></html>\n"


def _paragraphs(size: int) -> bytes:
    para = b"<p>The harbour master logged another cargo ship today.</p>\n"
    return b"<html><body>" + para * (size // len(para)) + b"</body></html>\n"


CASES: dict[str, Callable[[Path], None]] = {
    # Item 5: quadratic time.
    "json-escapes-40k": _write("escapes.json", b'"\\' * 20_000),
    "json-escapes-500k": _write("escapes.json", b'"\\' * 250_000),
    "sgm-unclosed-title-270k": _write("titles.sgm", _unclosed_titles(270_000)),
    "sgm-unclosed-title-1m": _write("titles.sgm", _unclosed_titles(1_000_000)),
    "html-6mb": _write("page.html", _paragraphs(6 * MB)),
    "html-19mb": _write("page.html", _paragraphs(19 * MB)),
    "html-links-2mb": _write("links.html", _links(2 * MB)),
    # Item 6: memory.
    "json-50mb-string": _write("one.json", b'{"title": "t", "body": "' + b"a" * (50 * MB)
                               + b'"}'),
    "jsonl-30m-malformed": _lines("bad.jsonl", b"", b"x\n", 30_000_000),
    "sgm-6m-records": _lines("many.sgm", b"", b"<REUTERS>", 6_000_000),
    "jsonl-1m-tiny": _tiny_records(1_000_000),
    "csv-2m-bad-rows": _lines("bad.csv", b"title,body\n", b"a,b,c\n", 2_000_000),
    "html-60mb-p": _write("page.html", _paragraphs(60 * MB)),
    "txt-60mb-short-lines": _lines("lines.txt", b"Harbour log\n\n", b"ship in\n", 7_500_000),
    "latin1-60mb": _lines("latin1.txt", b"Harbour log\n\n", b"caf\xe9 \xe0 la gare\n",
                          3_500_000),
}


def _members(sid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid and fields[0] not in ("Z", "X"):  # field 4 is the session
            out.append(int(entry))
    return out


def _hwm_kb(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def measure(args: list[str], timeout: float, mem_cap_mb: float) -> dict[str, object]:
    """Run ``args`` in a new session; its time, exit code, output and per-process peak."""
    with tempfile.TemporaryFile() as out_f, tempfile.TemporaryFile() as err_f:
        started = time.monotonic()
        proc = subprocess.Popen(args, stdout=out_f, stderr=err_f, start_new_session=True)
        peak_kb = main_kb = 0
        stopped = ""
        while proc.poll() is None:
            for pid in _members(proc.pid):
                hwm = _hwm_kb(pid)
                peak_kb = max(peak_kb, hwm)
                if pid == proc.pid:
                    main_kb = max(main_kb, hwm)
            if peak_kb / 1024 > mem_cap_mb:
                stopped = f"memory cap {mem_cap_mb:.0f} MB"
            elif time.monotonic() - started > timeout:
                stopped = f"timeout {timeout:.0f} s"
            if stopped:
                for pid in _members(proc.pid):
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                proc.wait()
                break
            time.sleep(0.1)
        seconds = time.monotonic() - started
        out_f.seek(0)
        err_f.seek(0)
        return {"seconds": seconds, "peak_mb": peak_kb / 1024, "main_mb": main_kb / 1024,
                "code": proc.returncode, "stopped": stopped, "stdout": out_f.read(),
                "stderr": err_f.read()}


def run_index(name: str, folder: Path, index: Path, timeout: float, mem_cap_mb: float,
              extra: list[str]) -> dict[str, object]:
    """``newsearch index FOLDER --index INDEX --json`` measured; one row of the table."""
    exe = Path(sys.executable).with_name("newsearch")
    args = [str(exe), "index", str(folder), "--index", str(index), "--json", *extra]
    res = measure(args, timeout, mem_cap_mb)
    report: dict[str, object] = {}
    if not res["stopped"] and res["code"] == 0:
        report = json.loads(res["stdout"])  # type: ignore[arg-type]
    skipped = report.get("skipped") or []
    assert isinstance(skipped, list)
    return {
        "case": name,
        "seconds": res["seconds"],
        "peak_mb": res["peak_mb"],
        "main_mb": res["main_mb"],
        "code": res["code"],
        "stopped": res["stopped"],
        "skips": report.get("skipped_total", len(skipped)),
        "report_kb": len(res["stdout"]) / 1024,  # type: ignore[arg-type]
        "first_reason": skipped[0]["reason"] if skipped else "",
        "stderr": res["stderr"].decode("utf-8", "replace")[-300:],  # type: ignore[union-attr]
    }


def run_case(name: str, timeout: float, mem_cap_mb: float, jobs: int | None) -> dict[str, object]:
    work = Path(tempfile.mkdtemp(prefix=f"hostile-{name}-"))
    try:
        folder = work / "in"
        folder.mkdir()
        CASES[name](folder)
        return run_index(name, folder, work / "index", timeout, mem_cap_mb,
                         ["--jobs", str(jobs)] if jobs else [])
    finally:
        shutil.rmtree(work, ignore_errors=True)


def print_row(r: dict[str, object]) -> None:
    stop = ">" if r["stopped"] else ""
    print(f"| {r['case']} | {stop}{r['seconds']:.1f} | {stop}{r['peak_mb']:.0f} | "
          f"{stop}{r['main_mb']:.0f} | {r['stopped'] or r['code']} | {r['skips']} | "
          f"{r['report_kb']:.0f} | {str(r['first_reason'])[:60]} |", flush=True)
    if r["code"] not in (0, None) and not r["stopped"]:
        print(f"    stderr: {r['stderr']!r}", file=sys.stderr)


def make_scale(size: int, folder: Path) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from bench.test_scale import _row, _rows, real_articles, write_jsonl

    write_jsonl(folder, _rows([_row(a) for a in real_articles()], size))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("cases", nargs="*", help=f"cases to run (default: all): {', '.join(CASES)}")
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--mem-cap", type=float, default=4096.0, metavar="MB")
    parser.add_argument("--jobs", type=int, default=None)
    parser.add_argument("--corpus", type=Path, help="measure one run over this folder instead")
    parser.add_argument("--rebuild", action="store_true", help="with --corpus: then rebuild")
    parser.add_argument("--make-scale", nargs=2, metavar=("N", "DIR"))
    opts = parser.parse_args()
    if opts.make_scale:
        make_scale(int(opts.make_scale[0]), Path(opts.make_scale[1]))
        return
    print("| case | seconds | peak MB (largest process) | main process MB | exit | skips | "
          "report KB | first skip |")
    print("|---|---|---|---|---|---|---|---|")
    if opts.corpus:
        work = Path(tempfile.mkdtemp(prefix="measured-"))
        try:
            extra = ["--jobs", str(opts.jobs)] if opts.jobs else []
            print_row(run_index(opts.corpus.name, opts.corpus, work / "index", opts.timeout,
                                opts.mem_cap, extra))
            if opts.rebuild:
                print_row(run_index(f"{opts.corpus.name} --rebuild", opts.corpus,
                                    work / "index", opts.timeout, opts.mem_cap,
                                    [*extra, "--rebuild"]))
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return
    for name in opts.cases or list(CASES):
        print_row(run_case(name, opts.timeout, opts.mem_cap, opts.jobs))


if __name__ == "__main__":
    main()
