"""Body-extraction quality of the HTML reader on the Article Extraction Benchmark pages.

    python bench/html_extraction.py [--corpus DIR] [--variant NAME ...] [--json OUT]

Each page of ``html_articles/html/*.html.gz`` is decompressed, wrapped in a
:class:`~newsearch.readers.SourceFile` and read by the real reader (``read_source`` for the
default settings, ``readers.html.read`` with other :class:`ExtractOptions` for the variants);
the body of the resulting Article (after ``Article.create`` cleaning) is compared with the
page's ``articleBody`` in ``ground-truth.json`` using the benchmark's own measure
(:func:`newsearch.readers.html.score_extraction`: 4-token shingles, per-page normalised counts,
precision and recall averaged over pages, F1 of the averages). A skipped page counts as an
empty extraction.

Figures on the 181 pages (trafilatura 2.3.1, ``--variant all``; pages/s on one core, the first
variant also pays the imports). trafilatura's own ``extract(html, include_comments=False)``,
which the benchmark runs, scores the same as ``balanced``.

    variant              precision  recall   F1      skipped  pages/s
    precision (default)  0.9577     0.9705   0.9641  0        ~32
    recall-fast          0.9477     0.9791   0.9632  0        ~45
    fast                 0.9461     0.9791   0.9623  0        ~40
    precision-dedup      0.9576     0.9647   0.9611  1        ~24
    balanced             0.9420     0.9783   0.9598  0        ~31
    recall               0.9408     0.9785   0.9593  0        ~44
    with-comments        0.9388     0.9783   0.9582  0        ~31
    no-tables            0.9424     0.9721   0.9570  0        ~31
    precision-no-tables  0.9558     0.9582   0.9570  1        ~29
    dedup                0.9416     0.9614   0.9514  3        ~33
    precision-fast       0.9467     0.9455   0.9461  1        ~38

The acceptance test (tests/test_html_reader.py) pins the default's F1 floor at 0.960.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from newsearch.article import Article, RecordSkip  # noqa: E402
from newsearch.errors import SkippedInput  # noqa: E402
from newsearch.readers import SourceFile, read_source  # noqa: E402
from newsearch.readers.html import (  # noqa: E402
    DEFAULT_OPTIONS,
    ExtractionScores,
    ExtractOptions,
    score_extraction,
)
from newsearch.readers.html import read as read_html  # noqa: E402

DEFAULT_CORPUS = ROOT.parent / "shared" / "corpora" / "html_articles"

VARIANTS: dict[str, ExtractOptions] = {
    "default": DEFAULT_OPTIONS,
    "balanced": ExtractOptions(),
    "precision": ExtractOptions(favor_precision=True),
    "recall": ExtractOptions(favor_recall=True),
    "no-tables": ExtractOptions(include_tables=False),
    "dedup": ExtractOptions(deduplicate=True),
    "fast": ExtractOptions(fast=True),
    "with-comments": ExtractOptions(include_comments=True),
    "precision-fast": ExtractOptions(favor_precision=True, fast=True),
    "precision-dedup": ExtractOptions(favor_precision=True, deduplicate=True),
    "precision-no-tables": ExtractOptions(favor_precision=True, include_tables=False),
    "recall-fast": ExtractOptions(favor_recall=True, fast=True),
}


def pages(corpus: Path) -> Iterator[tuple[str, SourceFile]]:
    """(ground-truth key, SourceFile) for every page, in file-name order."""
    for path in sorted((corpus / "html").glob("*.html.gz")):
        key = path.name.split(".")[0]
        name = path.name[: -len(".gz")]
        # The folder as the corpus walk gives it (a reader must not take it for a section).
        yield key, SourceFile(path=str(path), name=name, data=gzip.decompress(path.read_bytes()),
                              folder=path.parent.name)


def extracted(src: SourceFile, read: Callable) -> tuple[str, list[str], str | None]:
    """(body, sections, skip reason or None) of one page as the reader produces it."""
    try:
        items = list(read(src))
    except SkippedInput as exc:
        return "", [], exc.reason
    for item in items:
        if isinstance(item, Article):
            return item.body, item.sections, None
        if isinstance(item, RecordSkip):
            return "", [], item.reason
    return "", [], "reader yielded nothing"


def run(corpus: Path, options: ExtractOptions) -> dict:
    truth = json.loads((corpus / "ground-truth.json").read_text(encoding="utf-8"))
    # The defaults go through read_source, exactly as the indexer reads a page.
    read: Callable = (
        read_source if options == DEFAULT_OPTIONS else partial(read_html, options=options)
    )
    pairs: list[tuple[str, str]] = []
    skipped: dict[str, str] = {}
    sections: Counter[str] = Counter()
    with_section = 0
    started = time.perf_counter()
    for key, src in pages(corpus):
        body, secs, reason = extracted(src, read)
        if reason:
            skipped[key] = reason
        pairs.append((truth[key].get("articleBody", ""), body))
        sections.update(secs)
        with_section += bool(secs)
    seconds = time.perf_counter() - started
    scores: ExtractionScores = score_extraction(pairs)
    return {
        **scores.to_dict(),
        "unigram": score_extraction(pairs, n=1).to_dict(),
        "seconds": seconds,
        "pages_per_second": len(pairs) / seconds if seconds else 0.0,
        "skipped": skipped,
        "with_section": with_section,
        "sections": dict(sections.most_common()),
        "options": {f: getattr(options, f) for f in options.__slots__},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument(
        "--variant",
        action="append",
        choices=[*VARIANTS, "all"],
        help="settings to measure (repeatable; default: the reader's defaults)",
    )
    parser.add_argument("--json", type=Path, help="write the figures as JSON to this file")
    args = parser.parse_args(argv)
    if not (args.corpus / "ground-truth.json").is_file():
        parser.error(f"no ground-truth.json in {args.corpus}")
    names = args.variant or ["default"]
    if "all" in names:
        names = list(VARIANTS)
    results = {}
    for name in names:
        r = run(args.corpus, VARIANTS[name])
        results[name] = r
        print(
            f"{name:<14} precision={r['precision']:.4f} recall={r['recall']:.4f} "
            f"F1={r['f1']:.4f} accuracy={r['accuracy']:.3f}  "
            f"(unigram F1={r['unigram']['f1']:.4f})  "
            f"{r['pages']} pages, {len(r['skipped'])} skipped, "
            f"{r['pages_per_second']:.1f} pages/s"
        )
        top = ", ".join(f"{k} {n}" for k, n in list(r["sections"].items())[:8])
        print(f"{'':<14} {r['with_section']} of {r['pages']} pages have a section "
              f"({len(r['sections'])} distinct; most common: {top})")
        for key, reason in sorted(r["skipped"].items()):
            print(f"    skipped {key[:12]}: {reason}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
