"""The OpenSearch mapping, client and manifest index against a real three-node cluster."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from newsearch.analysis import ANALYSIS_VERSION, positions, tokens
from newsearch.article import Article
from newsearch.backends.opensearch import (
    MAPPING_VERSION,
    Cluster,
    ClusterManifest,
    ClusterUnavailable,
    ClusterUnhealthy,
    IndexSettings,
    MappingVersionError,
    article_from_source,
    create_news_index,
    document,
    open_news_index,
    parse_url,
)
from newsearch.backends.opensearch.mapping import index_body, terms_field
from newsearch.errors import IndexNotFound
from newsearch.manifest import FileState

pytestmark = pytest.mark.opensearch

ARTICLE = Article.create(
    source="/news/feed.jsonl", key="7",
    title="Токаев встретился с Путиным в Москве",
    subtitle="Talks in Almaty's old town",
    body="Президент Касым-Жомарт Токаев заявил: Алматы будет восстановлен. "
         "Tokayev said the U.S. and Zürich talks went well; Машкова agreed.",
    # Moscow time, as RIA gives it: shown at +03:00, filed by its UTC instant.
    date=datetime(2022, 1, 14, 15, 40, tzinfo=timezone(timedelta(hours=3))),
    sections=["World", "Politics"],
    url="https://example.com/a", author="Ivan Petrov", lang="ru", tags=["Kazakhstan", "CSTO"],
)


@pytest.mark.parametrize(("url", "hosts", "index"), [
    ("opensearch+http://127.0.0.1:9200/news", ("http://127.0.0.1:9200",), "news"),
    ("http://a:9200,http://b:9201", ("http://a:9200", "http://b:9201"), None),
    ("opensearch+https://a:9200,b:9201/news", ("https://a:9200", "https://b:9201"), "news"),
    ("a:9200, b:9201/", ("http://a:9200", "http://b:9201"), None),
])
def test_urls_name_nodes_and_an_index(url: str, hosts: tuple[str, ...], index: str | None
                                      ) -> None:
    address = parse_url(url)
    assert address.hosts == hosts
    assert address.index == index


@pytest.mark.parametrize("url", ["", "ftp://a:9200", "opensearch+http://a:1/x,b:2/y", "http://"])
def test_bad_urls_are_one_sentence(url: str) -> None:
    with pytest.raises(ValueError, match="OpenSearch URL"):
        parse_url(url)


def test_new_index_layout_is_versioned_sharded_and_configurable(cluster, opensearch) -> None:
    name = opensearch.new_index("layout")
    create_news_index(cluster, name)
    settings = cluster.client.indices.get_settings(index=name)[name]["settings"]["index"]
    assert (settings["number_of_shards"], settings["number_of_replicas"]) == ("3", "1")
    assert settings["similarity"]["newsearch_bm25"]["type"] == "scripted"
    meta = open_news_index(cluster, name)
    assert meta["mapping_version"] == MAPPING_VERSION
    other = opensearch.new_index("layout")
    create_news_index(cluster, other, IndexSettings(shards=2, replicas=0))
    settings = cluster.client.indices.get_settings(index=other)[other]["settings"]["index"]
    assert (settings["number_of_shards"], settings["number_of_replicas"]) == ("2", "0")
    create_news_index(cluster, other)  # already there: checked, not replaced
    settings = cluster.client.indices.get_settings(index=other)[other]["settings"]["index"]
    assert settings["number_of_shards"] == "2"


def test_article_round_trips_and_terms_sit_at_newsearch_positions(cluster, opensearch) -> None:
    name = opensearch.new_index("roundtrip")
    create_news_index(cluster, name)
    cluster.client.index(index=name, id=ARTICLE.id, body=document(ARTICLE), refresh="true")
    src = cluster.client.get(index=name, id=ARTICLE.id)["_source"]
    assert "terms" not in src  # derived data stays out of the stored document
    assert article_from_source(src) == ARTICLE
    assert article_from_source(src).date.utcoffset() == timedelta(hours=3)  # type: ignore[union-attr]
    assert src["date"] == int(datetime(2022, 1, 14, 12, 40, tzinfo=UTC).timestamp())
    doc = document(ARTICLE)
    for fname in ("title", "subtitle", "body", "author"):
        # The field's own analyser over the term string the document carries.
        tv = cluster.client.termvectors(index=name, body={
            "doc": {"terms": {fname: doc["terms"][fname]}}, "positions": True,
            "offsets": False})["term_vectors"][terms_field(fname)]
        got = {t: [p["position"] for p in v["tokens"]] for t, v in tv["terms"].items()}
        assert got == dict(positions(getattr(ARTICLE, fname), "ru")[0]), fname
        # ...and the stored index answers for every one of those terms.
        for term in list(got)[:5]:
            hits = cluster.client.search(index=name, body={
                "query": {"term": {terms_field(fname): term}}})["hits"]["total"]["value"]
            assert hits == 1, (fname, term)
    # The Cyrillic name's terms share a position, as in the Whoosh index.
    first = next(tokens(ARTICLE.title, "ru"))[0]
    assert len(first) > 1
    assert doc["terms"]["title"].split(" ")[0] == "¦".join(first)
    assert src["lang"] == ["ru"]


def test_open_refuses_missing_foreign_and_other_version_indexes(cluster, opensearch) -> None:
    missing = opensearch.new_index("missing")
    with pytest.raises(IndexNotFound, match=f"no newsearch index {missing}"):
        open_news_index(cluster, missing)
    foreign = opensearch.new_index("foreign")
    cluster.client.indices.create(index=foreign, body={"settings": {"number_of_replicas": 0}})
    with pytest.raises(IndexNotFound, match="is not a newsearch index"):
        open_news_index(cluster, foreign)
    old = opensearch.new_index("old")
    body = index_body()
    body["mappings"]["_meta"]["newsearch"]["mapping_version"] = 0
    cluster.client.indices.create(index=old, body=body)
    with pytest.raises(MappingVersionError) as err:
        open_news_index(cluster, old)
    message = str(err.value)
    assert "mapping version 0" in message and "--rebuild" in message
    assert message.count(". ") == 0 and "\n" not in message
    # The analysis has its own version, apart from the Whoosh storage's schema version.
    assert meta_of(index_body())["analysis_version"] == ANALYSIS_VERSION
    other = opensearch.new_index("old")
    body = index_body()
    meta_of(body)["analysis_version"] = ANALYSIS_VERSION + 1
    cluster.client.indices.create(index=other, body=body)
    with pytest.raises(MappingVersionError, match=f"analysis {ANALYSIS_VERSION + 1}"):
        open_news_index(cluster, other)


def meta_of(body: dict) -> dict:
    return body["mappings"]["_meta"]["newsearch"]


def test_unreachable_cluster_is_one_sentence() -> None:
    dead = Cluster("http://127.0.0.1:9299", retry_seconds=0.5, initial_backoff=0.01)
    with pytest.raises(ClusterUnavailable, match=r"cannot reach the OpenSearch cluster at "
                                                 r"http://127.0.0.1:9299 \(no node answered\)"):
        dead.ping()
    with pytest.raises(ClusterUnavailable):
        open_news_index(dead, "news")


def test_red_index_is_refused(cluster, opensearch) -> None:
    name = opensearch.new_index("red")
    # Its primaries may only live on a node that does not exist: no copy is ever assigned.
    create_news_index(cluster, name, IndexSettings(
        extra={"routing.allocation.require._name": "no-such-node"}), wait_for_active_shards=0)
    with pytest.raises(ClusterUnhealthy, match=f"the OpenSearch index {name} at .* is red"):
        open_news_index(cluster, name)


def test_one_dead_node_in_the_list_is_not_fatal(opensearch) -> None:
    c = Cluster(f"http://127.0.0.1:9299,{opensearch.urls}")
    for _ in range(5):  # round robin passes the dead node several times
        assert c.health()["number_of_nodes"] == 3


def test_manifest_round_trips_in_the_cluster(cluster, opensearch) -> None:
    name = opensearch.new_index("manifest")
    manifest = ClusterManifest(cluster, name)
    assert manifest.load().files == {}  # no manifest index yet: an empty manifest
    manifest.create()
    files = {f"/corpus/{'deep/' * 120}file-{i:04d}.txt":
             FileState(f"{i}:1700000000", [f"id{i}a", f"id{i}b"], [f"k{i}a", f"k{i}b"],
                       [f"dup{i}"] if i % 7 == 0 else [])
             for i in range(2_300)}  # more than one page of the scan; paths over 512 bytes
    manifest.save(files)
    # Another machine, another client: the same manifest.
    assert ClusterManifest(Cluster(opensearch.urls), name).load().files == files
    gone = sorted(files)[:10]
    changed = {sorted(files)[10]: FileState("changed", ["x"], ["kx"], [])}
    manifest.save(changed, removed=gone)
    loaded = manifest.load().files
    assert len(loaded) == len(files) - 10
    assert not set(gone) & set(loaded)
    assert loaded[sorted(files)[10]] == changed[sorted(files)[10]]
