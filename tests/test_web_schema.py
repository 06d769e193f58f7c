"""schemathesis against the live server's /openapi.json: generated requests, valid and invalid,
never get a 5xx, and every response matches what the schema documents.

The schema's operations are driven through ``APIOperation.as_strategy`` and Hypothesis's
``@given`` (schemathesis' own pytest plugin does not run on pytest 9).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .web_support import LiveServer, build_index, live_server

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from schemathesis.checks import negative_data_rejection, positive_data_acceptance  # noqa: E402
from schemathesis.generation.modes import GenerationMode  # noqa: E402

EXAMPLES = 100  # per operation and mode; the whole file runs in well under a minute
OPERATIONS = ["/api/search", "/api/articles/{article_id}", "/api/stats", "/api/trend",
              "/api/watches/{name}/new"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    index: Path = build_index(tmp_path_factory.mktemp("web-schema"))
    with live_server(index) as srv:
        yield srv


@pytest.fixture(scope="module")
def api_schema(server: LiveServer) -> Any:
    return schemathesis.openapi.from_url(f"{server.url}/openapi.json")


def test_every_operation_is_fuzzed(api_schema: Any) -> None:
    found = [op.ok().path for op in api_schema.get_all_operations()]
    assert sorted(found) == sorted(OPERATIONS)


@pytest.mark.parametrize(("path", "mode"), [
    *[(path, GenerationMode.POSITIVE) for path in OPERATIONS],
    # /api/stats takes no parameters, so it has no invalid requests to make.
    *[(path, GenerationMode.NEGATIVE) for path in OPERATIONS if path != "/api/stats"],
])
def test_api_never_fails_and_matches_its_schema(api_schema: Any, path: str,
                                                mode: GenerationMode) -> None:
    operation = api_schema[path]["GET"]
    statuses: set[int] = set()

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def check(case: Any) -> None:
        # Two checks do not fit a query language: in a query string every value is text, so
        # "section=true" or "page=1.0", generated as invalid, are fine to the server (200);
        # and a q the schema allows may still be no query ("(" → 400 with a message).
        # Every other check applies: no 5xx, documented statuses, content types, and
        # responses that match their schemas.
        response = case.call_and_validate(
            excluded_checks=[negative_data_rejection, positive_data_acceptance])
        assert response.status_code < 500
        statuses.add(response.status_code)

    check()
    if mode is GenerationMode.POSITIVE and path not in ("/api/articles/{article_id}",
                                                        "/api/watches/{name}/new"):
        assert 200 in statuses  # the generated requests got past validation, too
