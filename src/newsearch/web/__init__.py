"""newsearch on the web: an ASGI application with a JSON API and a search page.

    HTTP request ─▶ create_app() (FastAPI) ─┬─ api.py    /api/search, /api/articles/{id},
                                            │            /api/stats, /openapi.json  (JSON)
                                            └─ pages.py  /, /articles/{id}, /static/*   (HTML)
                       both call one shared index (a SearchIndex: NewsIndex over a folder, or
                       OpenSearchIndex over a cluster) ─▶ SearchResults.to_dict()

One index object serves every request: it is thread-safe, FastAPI runs the
(synchronous) endpoints in its thread pool, and the index picks up new commits by itself, so
articles indexed while the server runs appear without a restart.

Library errors become HTTP statuses here and nowhere else: ``QueryError`` → 400
``{"error": message}`` (422 when it names a parameter: a malformed date), ``ArticleNotFound`` →
404, invalid parameters → 422 with ``error`` and FastAPI's ``detail``, an index that cannot be
read or a cluster that does not answer → 503, anything unexpected → 500 (logged, never a
dropped connection). No request path
reaches the file system: articles are looked up by id in the index, static files come from
package data loaded at start-up.

Embed it in another ASGI backend with ``parent.mount("/news", create_app("index"))``, or run
it with ``newsearch serve`` (uvicorn, 127.0.0.1:8000 by default).
"""

from __future__ import annotations

import hashlib
import logging
import os
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..backend import SearchIndex, open_index
from ..errors import ArticleNotFound, NewsearchError, QueryError
from . import api, pages

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "create_app", "serve"]

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000

# Headers on every response: no sniffing, no framing, and for HTML nothing but our own CSS.
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)


def create_app(index: SearchIndex | str | os.PathLike[str] | None = None, *,
               backend: str | None = None, opensearch_url: str | None = None) -> FastAPI:
    """The ASGI application over ``index``: an open index (:func:`newsearch.open_index`), or
    where to open one, as :func:`newsearch.open_index` takes it: the path of an index folder
    (default ``$NEWSEARCH_INDEX``, else ``./index``), an ``opensearch+http://...`` URL, or an
    index name with ``backend="opensearch"``.

    The index is opened here, so a missing or unreadable index or an unreachable cluster
    raises :class:`~newsearch.IndexNotFound` (or another :class:`~newsearch.NewsearchError`)
    at once, not on the first request.
    """
    if index is None or isinstance(index, str | os.PathLike):
        ix = open_index(index, backend=backend, opensearch_url=opensearch_url)
    else:
        ix = index
    app = FastAPI(
        title="newsearch",
        summary="Full-text search for news archives.",
        version=_version(),
        docs_url=None,  # Swagger UI and ReDoc load their scripts from a CDN
        redoc_url=None,
        openapi_tags=[{"name": "search", "description": "The JSON API."}],
    )
    app.state.index = ix
    app.state.cache = api.StatsCache()
    app.include_router(api.router())
    app.include_router(pages.router(), include_in_schema=False)
    _add_error_handlers(app)

    app.add_middleware(Boundary)
    return app


# Caching. Search results change with every commit, so no response that depends on the index
# may be served from a cache without asking: "no-cache" lets browsers and proxies keep it but
# makes them revalidate, and the ETag (the index generation and the request) lets an unchanged
# answer be a 304 without searching again. Errors are never stored. Static files are
# versioned by their content (?v=...) and keep their own long max-age.
CACHE_REVALIDATE = "no-cache"
CACHE_ERRORS = "no-store"


class Boundary:
    """ASGI middleware, the outermost layer of our app: adds :data:`SECURITY_HEADERS` (and
    the CSP on HTML) to every response, answers an exception nothing else handled with
    a 503 (an ``OSError``: the index folder vanished or cannot be read) or a 500, logged with
    its traceback, instead of dropping the connection, answers HEAD wherever GET is answered
    (the same headers, no body), and sets the caching headers (see :data:`CACHE_REVALIDATE`):
    an ``If-None-Match`` that matches the current ETag is a 304 before any work is done."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False
        head = scope["method"] == "HEAD"
        if head:
            scope = {**scope, "method": "GET"}  # HEAD is GET without the body (RFC 9110)
        etag = _etag(scope) if scope["method"] == "GET" else None

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                if headers.get("content-type", "").startswith("text/html"):
                    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
                status = message["status"]
                if status >= 400:
                    headers["Cache-Control"] = CACHE_ERRORS
                elif etag and status == 200:
                    headers["ETag"] = etag
                    headers["Cache-Control"] = CACHE_REVALIDATE
            elif message["type"] == "http.response.body" and head:
                message = {**message, "body": b""}
            await send(message)

        if etag and _etag_matches(Request(scope).headers.get("if-none-match", ""), etag):
            not_modified = Response(status_code=304, headers={
                "ETag": etag, "Cache-Control": CACHE_REVALIDATE})
            await not_modified(scope, receive, send_with_headers)
            return
        try:
            await self.app(scope, receive, send_with_headers)
        except Exception as exc:
            if started:
                raise
            log.exception("error answering %s", scope.get("path"))
            status = 503 if isinstance(exc, OSError) else 500
            response = _failure(Request(scope), status)
            await response(scope, receive, send_with_headers)


def _etag(scope: Scope) -> str | None:
    """A weak ETag for a response that depends on the index (not /static/, not the OpenAPI
    document): the committed index generation and the request's path and query. Weak: the
    timing in a result differs from one answer to the next."""
    path = _route_path(scope)
    if path.startswith("/static/") or path == "/openapi.json":
        return None
    try:
        generation = scope["app"].state.index.committed_generation()
    except Exception:  # no index to ask (gone, unreadable): the request itself says so
        return None
    request = f"{scope.get('path', '')}?{scope.get('query_string', b'').decode('latin-1')}"
    digest = hashlib.blake2b(request.encode("utf-8", "surrogateescape"), digest_size=8)
    return f'W/"{generation}-{digest.hexdigest()}"'


def _etag_matches(header: str, etag: str) -> bool:
    """``If-None-Match`` compared weakly (RFC 9110): any listed tag, or ``*``."""
    if not header:
        return False
    tags = {t.strip().removeprefix("W/") for t in header.split(",")}
    return "*" in tags or etag.removeprefix("W/") in tags


def _route_path(scope: Scope) -> str:
    root = scope.get("root_path", "")
    path: str = scope.get("path", "")
    return path[len(root):] if root and path.startswith(root) else path


def serve(index: str | os.PathLike[str] | None = None, *, host: str = DEFAULT_HOST,
          port: int = DEFAULT_PORT, backend: str | None = None,
          opensearch_url: str | None = None, **uvicorn_options: Any) -> None:
    """Run the application with uvicorn until interrupted (``newsearch serve``).

    The index is opened before the server starts: a missing index raises
    :class:`~newsearch.IndexNotFound` instead of starting a server that cannot answer.
    """
    import uvicorn

    app = create_app(index, backend=backend, opensearch_url=opensearch_url)
    log.info("serving %s on http://%s:%d/", app.state.index.path, host, port)
    # No "server: uvicorn" header: it tells a client nothing it needs and an attacker which
    # server to probe.
    uvicorn_options.setdefault("server_header", False)
    uvicorn.run(app, host=host, port=port, **uvicorn_options)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("newsearch")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0"


def _is_api(request: Request) -> bool:
    path = _route_path(request.scope)
    return path == "/api" or path.startswith("/api/")


def _error(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status)


FAILURES = {
    503: "the index cannot be read right now; try again later",
    500: "internal error; the server's log has the details",
}


def _failure(request: Request, status: int) -> Response:
    """A 5xx that says no more than :data:`FAILURES` (details are logged, not sent)."""
    message = FAILURES[status]
    if _is_api(request):
        return _error(status, message)
    return pages.error_page(request, status, message[0].upper() + message[1:] + ".")


def _add_error_handlers(app: FastAPI) -> None:
    """Library errors and HTTP errors as JSON under /api/, as an HTML page elsewhere."""

    @app.exception_handler(QueryError)
    async def query_error(request: Request, exc: QueryError) -> Response:
        if exc.parameter:
            # A parameter the library refused (a malformed date, since after until): as
            # invalid as one FastAPI refuses, so the same status and shape.
            name = API_PARAMETERS.get(exc.parameter, exc.parameter)
            detail = [{"type": "value_error", "loc": ["query", name], "msg": str(exc),
                       "input": request.query_params.get(name)}]
            return _error(422, str(exc), detail=detail)
        return _error(400, str(exc))

    @app.exception_handler(ArticleNotFound)
    async def not_found(request: Request, exc: ArticleNotFound) -> Response:
        return _error(404, str(exc))

    @app.exception_handler(NewsearchError)
    async def unavailable(request: Request, exc: NewsearchError) -> Response:
        # The index went missing or was damaged under a running server: not the client's
        # doing. The message names server paths, so it goes to the log only.
        log.error("index error: %s", exc)
        return _failure(request, 503)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        errors = jsonable_encoder(exc.errors())
        return _error(422, _validation_message(errors), detail=errors)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        response: Response
        if _is_api(request):
            response = _error(exc.status_code, str(exc.detail))
        else:
            response = pages.error_page(request, exc.status_code, str(exc.detail))
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response


# The library's search parameters as the API names them.
API_PARAMETERS = {"half_life_days": "half_life"}


def _validation_message(errors: list[dict[str, Any]]) -> str:
    """One sentence from pydantic's error list: ``per_page: Input should be ...``."""
    parts = []
    for err in errors[:3]:
        loc = [str(x) for x in err.get("loc", ()) if x not in ("query", "path", "body")]
        parts.append(f"{'.'.join(loc) or 'request'}: {err.get('msg', 'invalid')}")
    return "invalid parameters: " + "; ".join(parts) if parts else "invalid parameters"
