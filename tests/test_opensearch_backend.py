"""The OpenSearch backend through newsearch's public functions and the CLI, on a real cluster:
the same index runs (counts, incremental updates, duplicates, skips), the same results, the
writer lock, rebuilds and errors as one sentence, compared step by step with Whoosh."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

import newsearch
from newsearch import IndexLocked, IndexNotFound, SearchIndex, index_paths, open_index
from newsearch.backend import BackendError, resolve
from newsearch.backends.opensearch import Cluster, MappingVersionError, index_body
from newsearch.backends.opensearch.lock import ClusterLock
from newsearch.backends.opensearch.mapping import concrete_index
from newsearch.cli import main

pytestmark = pytest.mark.opensearch


def story(title: str, body: str) -> str:
    return f"{title}\n\n{body}\n"


def write(path: Path, text: str, mtime_bump: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    if mtime_bump:
        st = path.stat()
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + mtime_bump * 10**9))
    return path


def make_corpus(root: Path) -> Path:
    write(root / "world" / "a.txt", story("Almaty rebuilds", "Work began in Almaty on Monday."))
    write(root / "world" / "b.txt", story("Talks in Zürich", "Officials met in Zürich."))
    write(root / "business" / "c.txt", story("Rates held", "The central bank held rates."))
    write(root / "zz" / "copy.txt", story("ALMATY REBUILDS", "Work began in Almaty on Monday."))
    write(root / "README", "Notes about this folder, not an article.\n")
    write(root / "feed.jsonl", "\n".join(json.dumps(r) for r in [
        {"id": "1", "title": "Port strike ends", "body": "Dockers went back to work.",
         "section": "Business"},
        {"id": "2", "title": "Heatwave", "body": "Records fell across Europe.",
         "date": "2023-07-18T16:00:00Z", "category": "World"},
        {"id": "3", "title": "В Алматы начали восстанавливать здание акимата",
         "body": "Президент Касым-Жомарт Токаев заявил, что Алматы будет восстановлен.",
         "date": "2022-01-14T12:40:00+06:00", "section": "World", "lang": "ru"},
    ]))
    return root


def counts(report: newsearch.IndexReport) -> tuple[int, ...]:
    return (report.added, report.updated, report.deleted, report.unchanged, report.duplicates,
            report.documents, report.files_read, len(report.skipped),
            len(report.skipped_before))


def url(opensearch, name: str) -> str:
    return f"opensearch+{opensearch.urls}/{name}"


def comparable(results: newsearch.SearchResults) -> dict:
    """The JSON without timing, scores and ranks: the hits by id. Scores follow the same
    formula (tests/test_opensearch_dsl.py) but not to the digit: the engines round lengths
    differently, and Lucene's average lengths count replaced and deleted documents until
    their segments merge; ranking parity on real corpora is tests/test_opensearch_parity.py."""
    d = results.to_dict()
    d.pop("took_ms")
    d["hits"] = {h.pop("id"): h for h in d["hits"] if not (h.pop("score"), h.pop("rank"))}
    return d


QUERIES = ["almaty", "Алматы", "almaty~", "rat*", "work", "section:world", "zürich OR rates",
           '"central bank"', "rebuilds -talks", "heatwave", "almtay"]


def test_index_runs_count_alike_step_by_step(opensearch, cluster, tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path / "corpus")
    folder = tmp_path / "ix"
    cluster_ix = url(opensearch, opensearch.new_index("runs"))

    def both(**kw) -> tuple[tuple[int, ...], tuple[int, ...]]:
        w = index_paths([corpus], folder, jobs=1, **kw)
        o = index_paths([corpus], cluster_ix, jobs=2, **kw)
        return counts(w), counts(o)

    def same_answers() -> None:
        with open_index(folder) as w, open_index(cluster_ix) as o:
            assert isinstance(o, SearchIndex)
            assert type(o).__name__ == "OpenSearchIndex"
            for q in QUERIES:
                assert comparable(o.search(q)) == comparable(w.search(q)), q
            ws, os_ = w.stats().to_dict(), o.stats().to_dict()
            assert ws.pop("index") != os_.pop("index")
            assert os_.pop("index_bytes") > 0 and ws.pop("index_bytes") > 0  # disks differ
            assert os_ == ws
            for h in w.search("almaty OR rates OR heatwave", per_page=20).hits:
                assert o.get(h.id).to_dict() == w.get(h.id).to_dict()

    first, first_os = both()
    assert first == first_os
    assert first[:6] == (6, 0, 0, 0, 1, 6)  # 6 articles, one copy counted as a duplicate
    same_answers()

    assert both() == ((0, 0, 0, 6, 0, 6, 0, 0, 1),) * 2  # nothing read again

    write(corpus / "world" / "a.txt", story("Almaty rebuilds city hall", "Cranes arrived."),
          mtime_bump=5)
    write(corpus / "world" / "new.txt", story("New story", "Fresh text about rates."))
    (corpus / "business" / "c.txt").unlink()
    write(corpus / "feed.jsonl", (corpus / "feed.jsonl").read_text("utf-8").splitlines()[0]
          + "\n", mtime_bump=5)
    changed, changed_os = both()
    assert changed == changed_os
    # a.txt changed (updated), its old copy now indexed, new.txt added; c.txt and two
    # records of the feed gone
    assert changed[:3] == (2, 2, 3)
    same_answers()  # "central bank": both offer "central back" now the article is gone

    rebuilt, rebuilt_os = both(rebuild=True)
    assert rebuilt == rebuilt_os
    same_answers()


def test_rebuild_moves_the_alias_and_drops_the_old_index(opensearch, cluster,
                                                         tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path / "corpus")
    name = opensearch.new_index("rebuild")
    index_paths([corpus], url(opensearch, name), jobs=1)
    old = concrete_index(cluster, name)
    assert old and old != name  # the name is an alias
    with open_index(url(opensearch, name)) as ix:
        generation = ix.committed_generation()
        report = index_paths([corpus], url(opensearch, name), jobs=1, rebuild=True)
        assert report.added == report.documents == 6
        new = concrete_index(cluster, name)
        assert new != old and not cluster.client.indices.exists(index=old)
        assert not cluster.client.indices.exists(index=f"{old}-files")
        # generations only grow, so an open searcher's caches see the new index
        assert ix.committed_generation() > generation
        assert ix.search("almaty").total == 2


def test_writer_lock_is_held_in_the_cluster(opensearch, cluster, tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path / "corpus")
    name = opensearch.new_index("lock")
    where = url(opensearch, name)
    with ClusterLock(Cluster(opensearch.urls), name):
        with pytest.raises(IndexLocked, match="locked by another writer"):
            index_paths([corpus], where, jobs=1)
        res = CliRunner().invoke(main, ["index", str(corpus), "--index", where, "--json"])
        assert res.exit_code == 3, res.output
    assert index_paths([corpus], where, jobs=1, wait=5).documents == 6  # released


def test_a_dead_runs_lock_is_taken_over(opensearch, cluster, tmp_path: Path) -> None:
    name = opensearch.new_index("stale")
    lock = ClusterLock(Cluster(opensearch.urls), name)
    lock.acquire()
    lock._stop.set()  # the holder dies: no more heartbeats
    cluster.client.index(index=f"{name}-lock", id="writer", params={"refresh": "true"},
                         body={"owner": "dead", "heartbeat": 0})
    corpus = make_corpus(tmp_path / "corpus")
    assert index_paths([corpus], url(opensearch, name), jobs=1).documents == 6


def test_cli_takes_backend_and_urls_from_options_and_environment(opensearch, cluster,
                                                                 tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path / "corpus")
    name = opensearch.new_index("cli")
    runner = CliRunner()
    # Two nodes listed, the first of them not running: the second answers.
    urls = "http://127.0.0.1:9299," + opensearch.node_url(1)
    res = runner.invoke(main, ["index", str(corpus), "--backend", "opensearch",
                               "--opensearch-url", urls, "--index", name, "--json"],
                        catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["documents"] == 6
    env = {"NEWSEARCH_BACKEND": "opensearch", "NEWSEARCH_OPENSEARCH_URL": opensearch.urls}
    for args in (["search", "almaty", "--index", name, "--json"],
                 ["stats", "--index", name, "--json"]):
        res = runner.invoke(main, args, env=env, catch_exceptions=False)
        assert res.exit_code == 0, res.output
    hit = json.loads(runner.invoke(main, ["search", "almaty", "--index", name, "--json"],
                                   env=env).output)["hits"][0]
    res = runner.invoke(main, ["show", hit["id"], "--index", url(opensearch, name), "--json"])
    assert res.exit_code == 0 and json.loads(res.output)["id"] == hit["id"]
    # The folder backend stays the default; the environment's URL alone changes nothing.
    res = runner.invoke(main, ["stats", "--index", str(tmp_path / "none")],
                        env={"NEWSEARCH_OPENSEARCH_URL": opensearch.urls})
    assert res.exit_code == 2 and "no newsearch index" in res.output


def test_library_open_index_by_url_and_by_backend(opensearch, cluster, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    corpus = make_corpus(tmp_path / "corpus")
    name = opensearch.new_index("lib")
    index_paths([corpus], name, backend="opensearch", opensearch_url=opensearch.urls, jobs=1)
    monkeypatch.setenv("NEWSEARCH_INDEX", url(opensearch, name))
    with newsearch.open_index() as ix:
        assert ix.path == url(opensearch, name) and ix.search("almaty").total == 2
    monkeypatch.delenv("NEWSEARCH_INDEX")
    monkeypatch.setenv("NEWSEARCH_BACKEND", "opensearch")
    monkeypatch.setenv("NEWSEARCH_OPENSEARCH_URL", opensearch.urls)
    assert newsearch.index_stats(name).documents == 6


def test_story_features_over_the_cluster(opensearch, cluster, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Stories, related stories and trends answer from the cluster, through the library and
    the CLI's backend options (tests/test_clusters.py, test_related.py and test_trends.py
    assert their behaviour on both backends)."""
    corpus = make_corpus(tmp_path / "corpus")
    name = opensearch.new_index("stories")
    index_paths([corpus], name, backend="opensearch", opensearch_url=opensearch.urls, jobs=1)
    with open_index(url(opensearch, name)) as ix:
        every = ix.search("almaty", all_versions=True)
        assert ix.search("almaty").total == every.total == 2
        assert ix.search("almaty").stories == 2
        first = every.hits[0].id
        assert [v.id for v in ix.versions(first)] == [first]  # a story of its own
        assert first not in {h.id for h in ix.similar(first).hits}
        assert ix.trend("almaty", by="year").series[0].total == 2
    monkeypatch.setenv("NEWSEARCH_BACKEND", "opensearch")
    monkeypatch.setenv("NEWSEARCH_OPENSEARCH_URL", opensearch.urls)
    result = CliRunner().invoke(main, ["similar", first, "--index", name, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["id"] == first
    result = CliRunner().invoke(main, ["similar", "no-such-id", "--index", name])
    assert result.exit_code == 2 and "no-such-id" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(("args", "message"), [
    (["--backend", "opensearch", "--opensearch-url", "http://127.0.0.1:9299"],
     "cannot reach the OpenSearch cluster at http://127.0.0.1:9299 (no node answered)"),
    (["--index", "opensearch+http://127.0.0.1:9298,127.0.0.1:9299/news"],
     "cannot reach the OpenSearch cluster at http://127.0.0.1:9298,http://127.0.0.1:9299"),
    (["--backend", "opensearch", "--index", "./My Index"], "is not an OpenSearch index name"),
    (["--backend", "whoosh", "--opensearch-url", "http://x:9200"],
     "an OpenSearch URL was given with the whoosh backend"),
    (["--opensearch-url", "ftp://x"], "an OpenSearch URL starts with http:// or https://"),
])
@pytest.mark.parametrize("command", [["search", "almaty"], ["stats"], ["show", "x"],
                                     ["index", "."], ["serve", "--port", "0"]])
def test_errors_are_one_sentence_and_exit_2(command: list[str], args: list[str],
                                            message: str) -> None:
    res = CliRunner().invoke(main, [*command, *args], env={
        "NEWSEARCH_BACKEND": "", "NEWSEARCH_OPENSEARCH_URL": "", "NEWSEARCH_INDEX": ""})
    assert res.exit_code == 2, res.output
    assert message in res.output
    assert res.output.startswith("newsearch: ") and len(res.output.strip().splitlines()) == 1


def test_missing_index_and_other_mapping_version(opensearch, cluster) -> None:
    missing = opensearch.new_index("missing")
    with pytest.raises(IndexNotFound, match=f"no newsearch index {missing}"):
        open_index(url(opensearch, missing))
    old = opensearch.new_index("old")
    body = index_body()
    body["mappings"]["_meta"]["newsearch"]["mapping_version"] = 1
    cluster.client.indices.create(index=old, body=body)
    with pytest.raises(MappingVersionError, match="--rebuild"):
        open_index(url(opensearch, old))
    res = CliRunner().invoke(main, ["search", "x", "--index", url(opensearch, old)])
    assert res.exit_code == 2 and "mapping version 1" in res.output


def test_resolution_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("NEWSEARCH_BACKEND", "NEWSEARCH_OPENSEARCH_URL", "NEWSEARCH_INDEX"):
        monkeypatch.delenv(var, raising=False)
    assert resolve("ix").backend == "whoosh"
    assert resolve(None, opensearch_url="http://h:9200").backend == "opensearch"
    t = resolve("opensearch+http://h:9200/news")
    assert (t.backend, t.url) == ("opensearch", "opensearch+http://h:9200/news")
    monkeypatch.setenv("NEWSEARCH_BACKEND", "opensearch")
    assert resolve("arch").url == "http://127.0.0.1:9200"
    assert resolve("arch", backend="whoosh").backend == "whoosh"
    monkeypatch.setenv("NEWSEARCH_BACKEND", "solr")
    with pytest.raises(BackendError, match="unknown backend 'solr'"):
        resolve("arch")
