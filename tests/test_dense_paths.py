"""The two paths of the query path's array work give the same answers: unions of posting lists
(backends/whoosh: flags for long lists, merged runs for short ones, against numpy.unique) and
a story's leader among matching versions (arrays over cluster numbers for many versions, a
sort for few)."""

from __future__ import annotations

import numpy as np
import pytest

from newsearch.backends.whoosh.scoring import _combine
from newsearch.backends.whoosh.view import DENSE_UNION, union_ids
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
