"""Index runs into a cluster, with the same semantics and counts as the Whoosh backend.

    walk ─▶ plan (newsearch.runs: new / changed / unchanged / deleted, duplicates)
         ─▶ workers: read ▶ analyse ▶ document()      (DocumentPool, one per core)
         ─▶ this process: keep or drop each article ─▶ BulkWriter ─▶ per batch: deletes,
            the files' manifest entries, refresh, generation + 1

The incremental plan and the duplicate rules are newsearch.runs' own (its ``_Run`` and
``_index``, with the batch commit done here), so both backends count alike. The manifest is
the index ``<concrete>-files`` in the cluster, so any machine can continue a run; the writer
lock is in the cluster too (:mod:`.lock`).

**Names.** ``<name>`` is an alias of a concrete index ``<name>-<hex>``. A new index gets its
alias at once (searches see each batch, as with Whoosh's commits); ``rebuild`` fills a new
concrete index and moves the alias in one step at the end, so searches read the old index
until the new one is complete, then drops the old one.

**Order of writes** (what a killed run leaves): a batch's articles, then the ids of removed
articles deleted, then the manifest entries, then the generation. An entry never names an
article the cluster lacks; articles without an entry are read again by the next run (same
ids: overwritten).
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import time
import uuid
from collections.abc import Iterable
from typing import Any

from ...corpus import CorpusFile
from ...manifest import Manifest
from ...runs import (
    BATCH_ARTICLES,
    PART_ARTICLES,
    PART_CHARS,
    FileMeta,
    IndexReport,
    ProgressFn,
    _index,
    _Run,
    read_file_parts,
)
from ...watches import WatchAlert, check_watches
from .bulk import BulkWriter, loading
from .client import Address, Cluster, parse_url
from .lock import ClusterLock
from .manifest import ClusterManifest
from .mapping import (
    IndexSettings,
    band_terms,
    concrete_index,
    create_news_index,
    document,
    open_news_index,
    read_meta,
    set_generation,
    sketch_fields,
    sketch_of,
)
from .search import DEFAULT_INDEX, OpenSearchIndex, location

__all__ = ["index_paths_opensearch"]

# Articles per batch made searchable: the bulk writer sends 1,000 at a time anyway; a batch
# costs a refresh, the manifest entries and a mapping update.
CLUSTER_BATCH_ARTICLES = BATCH_ARTICLES // 4
# Indexed articles read back per part for story clusters: those sharing an LSH band with the
# part's articles (a part holds at most PART_ARTICLES; a story rarely has dozens of versions).
RECALL_MAX = 2_000


def _read_chunk(files: list[CorpusFile]) -> list[tuple[FileMeta, list[tuple[str, Any]]]]:
    """A worker's part: read each file (in parts, as the Whoosh builders do) and analyse its
    articles into documents."""
    out = []
    for f in files:
        for meta, articles in read_file_parts(f, PART_ARTICLES, PART_CHARS):
            docs = []
            for n, (a, key) in enumerate(articles):
                doc = document(a, key)
                if meta.sketched[n]:
                    doc.update(sketch_fields(meta.sketches[n]))
                docs.append((a.id, doc))
            out.append((meta, docs))
    return out


class DocumentPool:
    """Reads and analyses files on ``jobs`` processes, with the interface of
    newsearch.runs.Builders (submit, next_part, write, flush), writing to a bulk
    writer instead of segments."""

    def __init__(self, writer: BulkWriter, jobs: int) -> None:
        self.writer = writer
        self.jobs = max(1, jobs)
        self.pending: dict[int, Any] = {}
        self.docs: dict[int, list[list[tuple[str, Any]]]] = {}
        self.pool: Any = None
        if self.jobs > 1:
            methods = multiprocessing.get_all_start_methods()
            ctx = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
            self.pool = ctx.Pool(self.jobs)

    def submit(self, chunk_id: int, files: list[CorpusFile]) -> None:
        if self.pool is None:
            self.pending[chunk_id] = _read_chunk(files)
        else:
            self.pending[chunk_id] = self.pool.apply_async(_read_chunk, (files,))

    def next_part(self, chunk_id: int) -> tuple[int, list[FileMeta], bool]:
        """All of a chunk's file parts at once: ``(seq, metas, last)``."""
        got = self.pending.pop(chunk_id)
        done = got if self.pool is None else got.get()
        self.docs[chunk_id] = [docs for _meta, docs in done]
        return 0, [meta for meta, _docs in done], True

    def write(self, chunk_id: int, seq: int, keep: list[list[int]],
              marks: list[list[tuple[int, int]]] | None = None) -> None:
        # ``marks``: each kept article's story cluster and index time, decided by the run.
        for n, (docs, indices) in enumerate(zip(self.docs.pop(chunk_id), keep, strict=True)):
            for j, i in enumerate(indices):
                doc_id, doc = docs[i]
                if marks is not None:
                    doc["cluster"], doc["added"] = marks[n][j]
                self.writer.index_doc(doc_id, doc)

    def flush(self) -> list[Any]:
        self.writer.flush()
        return []

    def close(self) -> None:
        if self.pool is not None:
            self.pool.close()
            self.pool.join()

    def terminate(self) -> None:
        if self.pool is not None:
            self.pool.terminate()
            self.pool.join()


class _ClusterRun(_Run):
    """newsearch.runs' run bookkeeping, committed to the cluster."""

    def __init__(self, cluster: Cluster, index: str, manifest: Manifest, report: IndexReport,
                 batch_articles: int, writer: BulkWriter) -> None:
        super().__init__(None, manifest, report, batch_articles)
        self.cluster = cluster
        self.index = index
        self.writer = writer
        self.cluster_manifest = ClusterManifest(cluster, index)
        self.removed_ids: set[str] = set()
        self.changed: set[str] = set()
        self.removed: set[str] = set()
        meta = read_meta(cluster, index) or {}
        self.generation = int(meta.get("generation", 0))
        # Story clusters continue the index's numbering; the sketches of indexed articles are
        # read back from the index as the new articles' band keys ask for them (recall).
        self.clusters.next = _next_cluster(cluster, index)
        self.asked: set[int] = set()  # band keys already looked up in the index this run

    def remove_file(self, path: str) -> set[str]:
        st = self.manifest.files.get(path)
        if st is not None:
            self.removed_ids.update(st.ids)
            self.removed.add(path)
        return super().remove_file(path)

    def decide(self, meta: FileMeta, freed: set[str]) -> list[int]:
        keep = super().decide(meta, freed)
        if meta.path in self.manifest.files:
            self.changed.add(meta.path)
        return keep

    def should_commit(self) -> bool:
        return self.pending >= self.batch_articles

    def marks(self, meta: FileMeta, keep: list[int]) -> list[tuple[int, int]]:
        """As the Whoosh run decides clusters (newsearch.runs), after one terms query per
        part has brought back the indexed articles sharing an LSH band with the part's new
        articles (those this run has not seen already)."""
        sigs = [meta.sketches[i] for i in keep if meta.sketched[i]]
        wanted = [k for k in band_terms(sigs) if k not in self.asked]
        if wanted:
            self.asked.update(wanted)
            self._recall(wanted)
        return super().marks(meta, keep)

    def _recall(self, keys: list[int]) -> None:
        resp = self.cluster.call(self.cluster.client.search, index=self.index, body={
            "size": RECALL_MAX, "_source": ["id", "cluster", "sketch"],
            "query": {"terms": {"bands": keys}}})
        for h in resp["hits"]["hits"]:
            src = h["_source"]
            sig = sketch_of(src)
            # Articles of files removed since the last commit are still in the index.
            if sig is not None and src["id"] not in self.removed_ids:
                self.clusters.recall(src["id"], sig, int(src.get("cluster", -1)))

    def commit(self, segments: list[Any]) -> None:
        if not self.dirty and not self.changed and not self.removed:
            return
        self.writer.flush()
        live = {i for st in self.manifest.files.values() for i in st.ids}
        gone = sorted(self.removed_ids - live)  # an updated article keeps its id: not gone
        if gone:
            with BulkWriter(self.cluster, self.index) as w:
                for doc_id in gone:
                    w.delete_doc(doc_id)
        changed = {p: self.manifest.files[p] for p in self.changed if p in self.manifest.files}
        removed = [p for p in self.removed if p not in self.manifest.files]
        self.cluster_manifest.save(changed, removed)
        self.cluster.call(self.cluster.client.indices.refresh, index=self.index)
        self.generation += 1
        # Every article written so far has an index time up to run.added (runs.marks).
        set_generation(self.cluster, self.index, self.generation, added=self.added or None)
        self.removed_ids.clear()
        self.changed.clear()
        self.removed.clear()
        self.pending = 0
        self.deletes = []
        self.dirty = False


def _next_cluster(cluster: Cluster, index: str) -> int:
    """The first cluster number no article of ``index`` has."""
    resp = cluster.call(cluster.client.search, index=index, body={
        "size": 0, "aggs": {"top": {"max": {"field": "cluster"}}}})
    top = resp.get("aggregations", {}).get("top", {}).get("value")
    return int(top) + 1 if top is not None else 0


def _aliases(cluster: Cluster, name: str) -> dict[str, Any]:
    from opensearchpy.exceptions import NotFoundError

    try:
        found: dict[str, Any] = cluster.call(cluster.client.indices.get_alias, name=name)
    except NotFoundError:
        return {}
    return found


def index_paths_opensearch(
    paths: Iterable[str | os.PathLike[str]],
    url: str | Address,
    index: str | None = None,
    *,
    rebuild: bool = False,
    jobs: int | None = None,
    wait: float = 0.0,
    batch_articles: int = CLUSTER_BATCH_ARTICLES,
    progress: ProgressFn | None = None,
    settings: IndexSettings | None = None,
) -> IndexReport:
    """Index the files under ``paths`` into index ``index`` of the cluster at ``url``
    (created if needed), as :func:`newsearch.index_paths` does into a folder."""
    started = time.monotonic()
    address = parse_url(url) if isinstance(url, str) else url
    name = index or address.index or DEFAULT_INDEX
    settings = settings or IndexSettings()
    roots = [os.path.abspath(p) for p in paths]
    jobs = max(1, jobs or os.cpu_count() or 1)
    report = IndexReport(index=location(address, name))
    cluster = Cluster(address)
    try:
        cluster.ping()
        with ClusterLock(cluster, name, wait, replicas=settings.replicas,
                         location=report.index):
            run_started = _run(cluster, name, roots, rebuild, jobs, batch_articles, progress,
                               settings, report)
        cluster.call(cluster.client.indices.refresh, index=name)
        report.documents = int(cluster.call(cluster.client.count, index=name)["count"])
        if (report.added or report.updated) and not rebuild:  # a rebuild adds nothing new
            report.alerts = _alerts(address, name, run_started)
    finally:
        cluster.close()
    report.seconds = time.monotonic() - started
    return report


def _alerts(address: Address, name: str, run_started: int) -> list[WatchAlert]:
    """The saved searches matched against the articles this run added (indexed after it
    started): an index-time range per watch, never a search over the archive."""
    with OpenSearchIndex(address, name, results_cache=0) as ix:
        if not ix.watch_store().load():
            return []
        return check_watches(ix, after=run_started - 1)


def _run(cluster: Cluster, name: str, roots: list[str], rebuild: bool, jobs: int,
         batch_articles: int, progress: ProgressFn | None, settings: IndexSettings,
         report: IndexReport) -> int:
    """The run into index ``name``; returns when it started (UTC µs, as index times)."""
    current = concrete_index(cluster, name)
    if current is not None and not rebuild:
        open_news_index(cluster, name)  # the mapping version, a red index: one sentence
        target = current
        manifest = ClusterManifest(cluster, target).load()
    else:
        target = f"{name}-{uuid.uuid4().hex[:8]}"
        create_news_index(cluster, target, settings)
        ClusterManifest(cluster, target).create(settings)
        manifest = Manifest()
        if current is None:
            cluster.call(cluster.client.indices.put_alias, index=target, name=name)
    writer = BulkWriter(cluster, target)
    run = _ClusterRun(cluster, target, manifest, report, batch_articles, writer)
    if current is not None and current != target:
        # Generations only grow, also across a rebuild: searchers key their caches by them.
        run.generation = int((read_meta(cluster, current) or {}).get("generation", 0))
    pool = DocumentPool(writer, jobs)
    gc_was_enabled = gc.isenabled()
    gc.disable()  # as the Whoosh run: the cyclic collector only slows a run down
    try:
        with loading(cluster, target):
            _index(run, pool, roots, progress)
            run.dirty |= target != current  # a new index gets a generation even if empty
            run.commit(pool.flush())
    except BaseException:
        pool.terminate()
        raise
    finally:
        if gc_was_enabled:
            gc.enable()
    pool.close()
    if current is not None and current != target:
        _switch(cluster, name, current, target)
    return run.started


def _switch(cluster: Cluster, name: str, old: str, new: str) -> None:
    """Point ``name`` at the rebuilt index in one step; drop the old one and its manifest."""
    if name == old:
        # An index made without an alias (by an earlier layout or by hand): it must go
        # before the alias can take its name.
        cluster.call(cluster.client.indices.delete, index=old)
        cluster.call(cluster.client.indices.put_alias, index=new, name=name)
    else:
        actions = [{"remove": {"index": idx, "alias": name}} for idx in _aliases(cluster, name)]
        actions.append({"add": {"index": new, "alias": name}})
        cluster.call(cluster.client.indices.update_aliases, body={"actions": actions})
        cluster.call(cluster.client.indices.delete, index=old)
    manifest = ClusterManifest(cluster, old)
    if manifest.exists():
        cluster.call(cluster.client.indices.delete, index=manifest.index)
