"""The OpenSearch cluster for the backend's tests: a real three-node cluster, no mocks.

The ``opensearch`` fixture (session-wide) uses, in this order:

1. the cluster of ``scripts/opensearch-cluster.sh`` when it is running (CI starts it in
   ``.ci/run``; a developer may keep one running between test runs), left running;
2. otherwise it starts that cluster (downloading OpenSearch once) and stops it at the end of
   the session, when Java 21+ and Maven are on the machine;
3. otherwise the tests skip, unless ``NEWSEARCH_REQUIRE_OPENSEARCH=1`` (CI): then they fail.

Each test module makes its own indexes under :data:`TEST_PREFIX` (``opensearch.new_index``);
the ``cluster`` fixture (a client, module-wide) deletes them, with their manifest, lock and
watches indexes, after the module. Tests that assert a behaviour of both backends take the
``backend`` fixture (``whoosh``, ``opensearch``) and :func:`index_location`.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "opensearch-cluster.sh"
TEST_PREFIX = "nstest-"
START_TIMEOUT = 900  # a first start downloads 160 MB and needs about a minute to turn green


def _script(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(SCRIPT), *args], capture_output=True, text=True,
                          timeout=timeout, check=False)


def _unavailable(reason: str) -> None:
    if os.environ.get("NEWSEARCH_REQUIRE_OPENSEARCH") == "1":
        pytest.fail(f"{reason} and NEWSEARCH_REQUIRE_OPENSEARCH=1")
    pytest.skip(reason)


@dataclass
class LocalCluster:
    """The running test cluster: its node URLs, and node stops/starts through the script."""

    urls: str
    started_here: bool = False
    indexes: list[str] = field(default_factory=list)

    def new_index(self, label: str) -> str:
        name = f"{TEST_PREFIX}{label}-{uuid.uuid4().hex[:8]}"
        self.indexes.append(name)
        return name

    def node_url(self, n: int) -> str:
        return self.urls.split(",")[n]

    def kill_node(self, n: int) -> None:
        """SIGKILL node ``n``: a crash, not a clean shutdown."""
        result = _script("kill-node", str(n))
        assert result.returncode == 0, result.stderr

    def restart(self) -> None:
        """Stop every node (by pid, gracefully) and start the cluster again from its data."""
        result = _script("stop")
        assert result.returncode == 0, result.stderr
        assert _script("status").returncode != 0, "a node outlived stop"
        result = _script("start", timeout=START_TIMEOUT)
        assert result.returncode == 0, result.stderr

    def start_node(self, n: int) -> None:
        result = _script("start-node", str(n), timeout=START_TIMEOUT)
        assert result.returncode == 0, result.stderr


@pytest.fixture(scope="session")
def opensearch() -> Iterator[LocalCluster]:
    running = _script("status").returncode == 0  # some node of the script's cluster runs
    if not running and _script("check").returncode != 0:
        _unavailable("the OpenSearch tests need Java 21+ and Maven")
    # Idempotent: starts whatever node is missing and waits for green.
    result = _script("start", timeout=START_TIMEOUT)
    if result.returncode != 0:
        pytest.fail(f"scripts/opensearch-cluster.sh start failed:\n{result.stderr[-2000:]}")
    cluster = LocalCluster(_script("urls").stdout.strip(), started_here=not running)
    yield cluster
    if cluster.started_here:
        _script("stop", timeout=120)


@pytest.fixture(scope="module")
def cluster(opensearch: LocalCluster) -> Iterator[Any]:
    """A client of the test cluster; the indexes made so far are deleted after the module
    (``name*``: with their manifest, lock and watches indexes)."""
    from newsearch.backends.opensearch import Cluster

    c = Cluster(opensearch.urls)
    yield c
    for name in opensearch.indexes:
        c.client.indices.delete(index=f"{name}*", ignore=[404])
    c.close()


# Both backends, the cluster's run only with the opensearch marker's tests.
BACKENDS = ["whoosh", pytest.param("opensearch", marks=pytest.mark.opensearch)]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def index_location(request: pytest.FixtureRequest, backend: str, folder: Path,
                   label: str) -> str:
    """Where a test's new index goes: ``folder`` (Whoosh), or a new index in the test
    cluster as an ``opensearch+http://...`` URL, deleted after the module."""
    if backend == "whoosh":
        return str(folder)
    cluster_ = request.getfixturevalue("opensearch")
    request.getfixturevalue("cluster")  # deletes it after the module
    return f"opensearch+{cluster_.urls}/{cluster_.new_index(label)}"
