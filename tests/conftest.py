"""Shared fixtures: where the real corpora are, and indexes built from them once per run."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
CORPORA = SHARED / "corpora"
SEED = SHARED / "seed" / "kazakhstan-csto-withdrawal.txt"
SAMPLE = ROOT / "corpus"


def need_shared() -> Path:
    """The real corpora folder; skip without it, unless CI demands it (then fail)."""
    if not CORPORA.is_dir():
        if os.environ.get("NEWSEARCH_REQUIRE_SHARED") == "1":
            pytest.fail(f"{CORPORA} is missing and NEWSEARCH_REQUIRE_SHARED=1")
        pytest.skip("../shared/corpora not present")
    return CORPORA


@pytest.fixture(scope="session")
def corpora() -> Path:
    return need_shared()


# The OpenSearch backend's cluster (started on demand; see tests/opensearch_support.py).
from .opensearch_support import backend, cluster, opensearch  # noqa: E402, F401
