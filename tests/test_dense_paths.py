"""The two paths of the query path's array work give the same answers: unions of posting lists
(backends/whoosh: flags for long lists, merged runs for short ones, against numpy.unique), a
story's leader among matching versions (arrays over cluster numbers for many versions, a
sort for few), a term's postings in a set of documents (the shorter list looked up in the
longer, either way, or a table of the documents, against a dictionary), the common values of
two lists (binary search, flags, a merge, against numpy.intersect1d) and a term's lists
joined over segments (a view of the map for one list at offset 0, one written result
otherwise, against astype and concatenate)."""

from __future__ import annotations

import numpy as np
import pytest

from newsearch.backends.whoosh.scoring import _combine
from newsearch.backends.whoosh.view import (
    DENSE_UNION,
    SEARCH_RATIO,
    _joined,
    doc_table,
    postings_of,
    sorted_common,
    union_ids,
)
from newsearch.clusters import _DENSE_LEADERS, story_leaders


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


@pytest.mark.parametrize("how", [np.add, np.maximum])
@pytest.mark.parametrize("n", [2_000, 1_000_000])
def test_combine_joins_counts_as_ufunc_at_does(how: np.ufunc, n: int) -> None:
    rng = np.random.default_rng(7)
    parts = [(ids.astype(np.int64), rng.integers(1, 9, size=len(ids)).astype(np.float32))
             for ids in _lists(rng, n, [800, 600, 50])]
    ids, tf = _combine(parts, how, n)
    everything = np.concatenate([p[0] for p in parts])
    want_ids, inverse = np.unique(everything, return_inverse=True)
    want_tf = np.zeros(len(want_ids), dtype=np.float32)
    how.at(want_tf, inverse, np.concatenate([p[1] for p in parts]))
    np.testing.assert_array_equal(ids, want_ids)
    np.testing.assert_array_equal(tf, want_tf)


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
