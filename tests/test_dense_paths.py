"""The two paths of the query path's array work give the same answers: unions of posting lists
(backends/whoosh: flags for long lists, merged runs for short ones, against numpy.unique), a
story's leader among matching versions (arrays over cluster numbers for many versions, a
sort for few), the top of a ranking (a bound from block maxima for many keys, a selection
for few), a page of stories (a head of the ranking, or every story's leader), a term's
postings in a set of documents (the shorter list looked up in the longer, either way, or a
table of the documents, against a dictionary), the common values of two lists (binary
search, flags, a merge, against numpy.intersect1d) and a term's lists joined over segments
(a view of the map for one list at offset 0, one written result otherwise, against astype
and concatenate)."""

from __future__ import annotations

import numpy as np
import pytest

from newsearch.backends.whoosh.scoring import JOIN_INTO_LONGEST, _combine, _field_sum
from newsearch.backends.whoosh.view import (
    DENSE_UNION,
    SEARCH_RATIO,
    _joined,
    doc_table,
    postings_of,
    sorted_common,
    union_ids,
)
from newsearch.clusters import (
    _DENSE_COUNT,
    _DENSE_LEADERS,
    count_stories,
    story_leaders,
    story_numbers,
    top_stories,
)
from newsearch.ranking import _TOP_BLOCK, top_k


def _lists(rng: np.random.Generator, n: int, sizes: list[int]) -> list[np.ndarray]:
    return [np.sort(rng.choice(n, size=k, replace=False)).astype(np.int32) for k in sizes]


@pytest.mark.parametrize("sizes", [[3, 5], [40, 1, 7], [500, 400], [900, 900, 900]])
@pytest.mark.parametrize("n", [1_000, 100_000])
def test_union_ids_equals_numpy_unique(n: int, sizes: list[int]) -> None:
    rng = np.random.default_rng(n + sum(sizes))
    parts = _lists(rng, n, sizes)
    got = union_ids(parts, n)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, np.unique(np.concatenate(parts)))


def test_both_paths_are_taken_by_the_cases_above() -> None:
    # Short lists over many documents merge; long ones over few mark flags.
    assert (3 + 5) * DENSE_UNION < 100_000
    assert (900 * 3) * DENSE_UNION >= 1_000
    # One long list and short ones join by binary search; lists of like length do not.
    assert (30 + 5 + 40) * JOIN_INTO_LONGEST <= 1_800 and (600 + 50) * JOIN_INTO_LONGEST > 800


@pytest.mark.parametrize("how", [np.add, np.maximum])
@pytest.mark.parametrize("n", [2_000, 1_000_000])
@pytest.mark.parametrize("sizes", [[800, 600, 50], [30, 1_800, 5, 40]])
def test_combine_joins_counts_as_ufunc_at_does(how: np.ufunc, n: int, sizes: list[int]) -> None:
    """Long lists by flags, short ones by a sort, one long list with short ones by binary
    search (the second case), each as ufunc.at joins the counts."""
    rng = np.random.default_rng(7)
    parts = [(ids.astype(np.int64), rng.integers(1, 9, size=len(ids)).astype(np.float32))
             for ids in _lists(rng, n, sizes)]
    before = [(p[0].copy(), p[1].copy()) for p in parts]
    ids, tf = _combine(parts, how, n)
    everything = np.concatenate([p[0] for p in parts])
    want_ids, inverse = np.unique(everything, return_inverse=True)
    want_tf = np.zeros(len(want_ids), dtype=np.float32)
    how.at(want_tf, inverse, np.concatenate([p[1] for p in parts]))
    np.testing.assert_array_equal(ids, want_ids)
    np.testing.assert_array_equal(tf, want_tf)
    for (a, b), (c, d) in zip(parts, before, strict=True):  # cached lists stay as they were
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)


def _leaders_by_sort(ids: np.ndarray, keys: np.ndarray, clusters: np.ndarray,
                     sizes: np.ndarray) -> np.ndarray:
    """Each cluster's best-keyed id among ``ids`` (first of equal keys), one by one."""
    keep = np.ones(len(ids), dtype=bool)
    best: dict[int, int] = {}
    for i, d in enumerate(ids):
        if sizes[d] <= 1:
            continue
        c = int(clusters[d])
        if c not in best or keys[i] > keys[best[c]]:
            best[c] = i
    for i, d in enumerate(ids):
        if sizes[d] > 1 and best[int(clusters[d])] != i:
            keep[i] = False
    return keep


@pytest.mark.parametrize("dtype", [np.float64, np.int64])
@pytest.mark.parametrize(("docs", "matches"), [(50_000, 40), (5_000, 4_000)])
def test_story_leaders_match_a_plain_loop_on_both_paths(dtype: type, docs: int,
                                                         matches: int) -> None:
    rng = np.random.default_rng(docs)
    clusters = rng.integers(0, docs // 3, size=docs)  # clusters of about three versions
    sizes = np.bincount(clusters, minlength=docs)[clusters]
    ids = np.sort(rng.choice(docs, size=matches, replace=False))
    keys = rng.integers(0, 5, size=matches).astype(dtype)  # many equal keys: ties matter
    dense = matches * _DENSE_LEADERS >= int(clusters[ids].max()) + 1
    assert dense == (matches == 4_000)  # the two cases take the two paths
    got = story_leaders(ids, keys, clusters, sizes)
    assert got is not None
    np.testing.assert_array_equal(got, _leaders_by_sort(ids, keys, clusters, sizes))


def _top_by_sort(ids: np.ndarray, keys: np.ndarray, k: int) -> np.ndarray:
    """The plain definition: every id sorted by key (largest first), then doc number."""
    return ids[np.lexsort((ids, -keys))[:k]]


@pytest.mark.parametrize("dtype", [np.float64, np.int64])
@pytest.mark.parametrize("k", [1, 10, 430])
@pytest.mark.parametrize("n", [5, 900, 60_000])
@pytest.mark.parametrize("ties", [False, True])
def test_top_k_matches_a_full_sort(dtype: type, k: int, n: int, ties: bool) -> None:
    rng = np.random.default_rng(n + k)
    ids = np.sort(rng.choice(1_000_000, size=n, replace=False))
    keys = (rng.integers(0, 4, size=n) if ties else rng.random(n) * 1000).astype(dtype)
    np.testing.assert_array_equal(top_k(ids, keys, k), _top_by_sort(ids, keys, k))


def test_top_k_takes_both_paths_above() -> None:
    # 60,000 keys make blocks for k of 10 and 430; 900 keys are too few for 430 (and 5 for any).
    assert 60_000 // (4 * 430) >= 8 and _TOP_BLOCK <= 60_000 // (4 * 10)
    assert 900 // (4 * 430) < 8


def _stories_by_loop(ids: np.ndarray, keys: np.ndarray, clusters: np.ndarray,
                     sizes: np.ndarray, k: int) -> tuple[list[int], int]:
    """Each story's leader (best key, then lowest doc number), the leaders ranked by key then
    doc number; and how many stories."""
    best: dict[object, int] = {}
    for i, d in enumerate(ids.tolist()):
        story = ("c", int(clusters[d])) if sizes[d] > 1 else ("d", d)
        j = best.get(story)
        if j is None or keys[i] > keys[j]:
            best[story] = i
    leaders = sorted(best.values(), key=lambda i: (-keys[i], int(ids[i])))
    return [int(ids[i]) for i in leaders[:k]], len(best)


def test_story_counts_take_both_paths_below() -> None:
    # 40 hits among 50,000 documents are counted by a sort, 4,000 among 5,000 by flags.
    assert 40 * _DENSE_COUNT < 50_000 // 3 and 4_000 * _DENSE_COUNT >= 5_000


@pytest.mark.parametrize("k", [0, 1, 10, 50])
@pytest.mark.parametrize(("docs", "matches", "versions"),
                         [(50_000, 40, 3), (5_000, 4_000, 3), (20_000, 6_000, 21),
                          (3_000, 2_000, 1)])
def test_top_stories_match_leaders_then_top_k(k: int, docs: int, matches: int,
                                              versions: int) -> None:
    rng = np.random.default_rng(docs + matches + k)
    # Clusters of about ``versions`` documents (1: every article alone).
    clusters = rng.integers(0, max(1, docs // versions), size=docs) if versions > 1 else \
        np.arange(docs)
    sizes = np.bincount(clusters, minlength=docs)[clusters]
    ids = np.sort(rng.choice(docs, size=matches, replace=False))
    # Versions of one story share their key, as copies score alike; a few keys for ties.
    keys = (clusters[ids] % 7).astype(np.float64) + rng.integers(0, 2, size=matches) * 0.5
    numbers = story_numbers(clusters, sizes)
    got, stories = top_stories(ids, keys, numbers, k)
    want, want_stories = _stories_by_loop(ids, keys, clusters, sizes, k)
    assert got.tolist() == want and stories == want_stories
    mask = np.zeros(docs, dtype=bool)
    mask[ids] = True
    assert count_stories(numbers, mask) == want_stories
    keep = story_leaders(ids, keys, clusters, sizes)
    lead_ids, lead_keys = (ids, keys) if keep is None else (ids[keep], keys[keep])
    assert got.tolist() == top_k(lead_ids, lead_keys, k).tolist()


@pytest.mark.parametrize("sizes", [[50], [40, 3_000], [3_000, 40], [500, 700], [30, 900, 200],
                                   [0, 10]])
def test_field_sums_equal_adding_the_fields_in_order(sizes: list[int]) -> None:
    """One word's weighted counts over its fields: the binary-search join of two fields and
    the sum in an array of every document for more give each document the float32 sum of
    its fields' counts, once, and leave that array zero."""
    n = 10_000
    rng = np.random.default_rng(sum(sizes) + len(sizes))
    parts = [(np.sort(rng.choice(n, size=k, replace=False)).astype(np.intp),
              rng.random(k).astype(np.float32) * 7) for k in sizes]
    want = np.zeros(n, dtype=np.float32)
    for ids, tf in parts:
        want[ids] += tf  # in field order, as the scores always added them
    acc = np.zeros(n, dtype=np.float32)
    written: list[np.ndarray] = []
    ids, tf = _field_sum([p for p in parts if len(p[0])], acc, written)
    assert len(np.unique(ids)) == len(ids)
    assert sorted(ids.tolist()) == np.flatnonzero(want).tolist()
    np.testing.assert_array_equal(tf, want[ids])
    assert not acc.any()


@pytest.mark.parametrize(("big", "versions", "singles", "k", "every_leader"), [
    (0, 0, 20_000, 10, False),  # every hit alone
    (3, 2_000, 20_000, 10, True),  # three stories of many versions hold the best keys
    (5, 400, 0, 10, True),  # fewer stories than the page
    (2_000, 3, 0, 1_000, True),  # a page deep in the ranking
    (2_000, 3, 0, 10, False),  # many small stories: the head holds the page
])
def test_top_stories_from_the_head_or_every_leader(monkeypatch: pytest.MonkeyPatch, big: int,
                                                    versions: int, singles: int, k: int,
                                                    every_leader: bool) -> None:
    """Pages whose stories the head of the ranking holds, and pages it does not (then every
    story's leader is found), equal a plain loop."""
    import newsearch.clusters as clusters_module

    rng = np.random.default_rng(big + versions + singles + k)
    docs = big * versions + singles
    clusters = np.concatenate([np.repeat(np.arange(big), versions),
                               big + np.arange(singles)]).astype(np.int64)
    sizes = np.bincount(clusters)[clusters]
    keys_of = np.concatenate([rng.integers(50, 60, size=big * versions),
                              rng.integers(0, 50, size=singles)]).astype(np.float64)
    ids = np.arange(docs)
    every = []
    real = clusters_module._best_of_each
    monkeypatch.setattr(clusters_module, "_best_of_each",
                        lambda g, keys: every.append(1) or real(g, keys))
    got, count = top_stories(ids, keys_of, story_numbers(clusters, sizes), k)
    assert (got.tolist(), count) == _stories_by_loop(ids, keys_of, clusters, sizes, k)
    assert bool(every) == every_leader


@pytest.mark.parametrize(("postings", "docs"), [(30, 5_000), (5_000, 30), (2_000, 2_000)])
def test_postings_of_matches_a_dictionary_either_way(postings: int, docs: int) -> None:
    rng = np.random.default_rng(postings + docs)
    n = 20_000
    # As the map stores them: uint32 doc numbers; the documents asked for as int64.
    ids = np.sort(rng.choice(n, size=postings, replace=False)).astype("<u4")
    wanted = np.sort(rng.choice(n, size=docs, replace=False)).astype(np.int64)
    shared = min(docs, postings) // 2  # documents in both
    wanted[:shared] = rng.choice(ids, size=shared, replace=False)
    wanted = np.unique(wanted)
    index_of = {int(d): i for i, d in enumerate(ids)}
    want = [(index_of[int(d)], k) for k, d in enumerate(wanted) if int(d) in index_of]
    assert want  # the cases above share documents
    idx, ks = postings_of(ids, wanted)
    assert list(zip(idx.tolist(), ks.tolist(), strict=True)) == want
    where = doc_table(wanted, n)
    assert (where is not None) == (len(wanted) * DENSE_UNION >= n)
    if where is not None:
        idx, ks = postings_of(ids, wanted, where)
        assert list(zip(idx.tolist(), ks.tolist(), strict=True)) == want
    assert len(postings_of(ids[:0], wanted)[0]) == len(postings_of(ids, wanted[:0])[1]) == 0


def test_joined_postings_equal_astype_and_concatenate() -> None:
    rng = np.random.default_rng(3)
    lists = [np.sort(rng.choice(1_000, size=k, replace=False)).astype("<u4")
             for k in (300, 1, 50)]
    tfs = [rng.integers(1, 200, size=len(ids)).astype(np.uint8) for ids in lists]
    parts = [(lists[0], tfs[0], 0), (lists[1], None, 1_000), (lists[2], tfs[2], 2_000)]
    ids, w = _joined(parts)
    assert ids.dtype == np.int32 and w.dtype == np.float32
    np.testing.assert_array_equal(ids, np.concatenate(
        [p[0].astype(np.int64) + p[2] for p in parts]))
    np.testing.assert_array_equal(w, np.concatenate(
        [p[1].astype(np.float32) if p[1] is not None else np.ones(len(p[0]), np.float32)
         for p in parts]))
    # One list at offset 0: its doc numbers are the mapped array itself, read as int32.
    mapped = lists[0].copy()
    mapped.flags.writeable = False
    ids, w = _joined([(mapped, None, 0)])
    assert ids.dtype == np.int32 and np.shares_memory(ids, mapped)
    np.testing.assert_array_equal(ids, lists[0].astype(np.int64))
    np.testing.assert_array_equal(w, np.ones(len(mapped), np.float32))
    assert _joined([])[0].dtype == np.int32


@pytest.mark.parametrize(("sizes", "n", "path"), [
    ((40, 5_000), 1_000_000, "search"),
    ((60_000, 50_000), 1_000_000, "flags"),
    ((20_000, 15_000), None, "merge"),  # position keys: no bound to flag under
    ((2_000, 3_000), 1_000_000, "merge"),
])
def test_sorted_common_equals_intersect1d(sizes: tuple[int, int], n: int | None,
                                          path: str) -> None:
    rng = np.random.default_rng(sum(sizes))
    top = n if n is not None else 1 << 40
    a, b = (np.unique(rng.integers(0, top, size=k)) for k in sizes)
    shared = min(len(a), len(b)) // 3  # values in both
    b[:shared] = rng.choice(a, size=shared, replace=False)
    b = np.unique(b)
    small, big = sorted((len(a), len(b)))
    taken = "search" if big > SEARCH_RATIO * small else \
        "flags" if n is not None and (small + big) * DENSE_UNION >= n else "merge"
    assert taken == path
    got = sorted_common(a, b, n)
    np.testing.assert_array_equal(got, np.intersect1d(a, b))
    assert len(got) and len(sorted_common(a[:0], b, n)) == 0
