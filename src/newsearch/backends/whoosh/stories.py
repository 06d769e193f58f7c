"""A story's versions in the Whoosh index: the live documents sharing a cluster number.

The clusters themselves (sketches, assignment, the collapsing rules) are
:mod:`newsearch.clusters`, which reads no index; this reads the view's columns.
"""

from __future__ import annotations

import numpy as np

from .view import NO_DAY, View

__all__ = ["story_members"]


def story_members(view: View, docnum: int, *, oldest_first: bool = False
                  ) -> np.ndarray:
    """The live documents in the cluster of ``docnum`` (itself included), in doc number
    order or oldest first (undated last)."""
    members = np.flatnonzero((view.clusters == view.clusters[docnum]) & view.live)
    if oldest_first:
        dates = view.dates[members]
        undated = view.days[members] == NO_DAY
        members = members[np.lexsort((members, dates, undated))]
    return members
