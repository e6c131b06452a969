"""A single pure-ASGI middleware: request id, client address, body-size limit, security headers,
Prometheus metrics and one structured access-log line. Pure ASGI keeps it cheap."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping

from prometheus_client import Counter, Histogram
from starlette.exceptions import HTTPException

from zhiyi.core import ids, requestctx
from zhiyi.http.errors import is_fhir

log = logging.getLogger("zhiyi.access")

REQUESTS = Counter("zhiyi_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram(
    "zhiyi_http_request_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)


# The pages load scripts and styles from /static only (no inline script or style, no CDN); nothing may
# frame them. The one exception is the API docs page, whose inline start-up script carries a nonce.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "font-src 'self'; media-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
SECURITY_HEADERS = (
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (
        b"permissions-policy",
        b"camera=(), geolocation=(), microphone=(self)",
    ),  # voice input on the triage page
    (b"cross-origin-opener-policy", b"same-origin"),
)
HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")
# responses may carry patient data: kept by no browser or proxy cache (static assets excepted)
NO_STORE = (b"cache-control", b"no-store")
STATIC_PREFIX = "/static/"


def security_headers(headers: list, *, path: str, secure: bool) -> list:
    """`headers` with the security headers added (a route that set one of them keeps its own)."""
    have = {name.lower() for name, _ in headers}
    extra = [h for h in SECURITY_HEADERS if h[0] not in have]
    if not path.startswith(STATIC_PREFIX) and b"cache-control" not in have:
        extra.append(NO_STORE)
    if secure:
        extra.append(HSTS)
    return list(headers) + extra


def _outcome(status: int) -> bytes:
    """Under /fhir the edge's refusals are OperationOutcomes, as every other answer there."""
    code, said = (
        ("too-costly", "The request body is too large.") if status == 413 else ("invalid", "Bad request.")
    )
    return json.dumps(
        {
            "resourceType": "OperationOutcome",
            "issue": [{"severity": "error", "code": code, "diagnostics": said}],
        }
    ).encode()


def _too_large(request_id: str) -> bytes:
    return json.dumps(
        {
            "code": "payload_too_large",
            "message": "The request body is too large.",
            "errors": [],
            "request_id": request_id,
        }
    ).encode()


class EdgeMiddleware:
    def __init__(
        self,
        app,
        *,
        max_body_bytes: int,
        body_limits: Mapping[str, int] | None = None,
        access_log: bool = True,
        secure: bool = False,
    ):
        self.app = app
        self.max_body = max_body_bytes
        # path prefix -> its own limit (/fhir: transaction Bundles of hundreds of resources)
        self.body_limits = tuple((body_limits or {}).items())
        self.access_log = access_log
        self.secure = (
            secure  # served over HTTPS (behind a proxy that ends TLS): browsers are told to keep to it
        )

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        rid = ids.request_id()
        requestctx.request_id.set(rid)
        client = scope.get("client")
        requestctx.client_addr.set(client[0] if client else None)
        start = time.perf_counter()
        status_holder = {"status": 500}
        if (
            b"\x00" in scope.get("raw_path", b"")
            or b"%00" in scope.get("query_string", b"").lower()
            or "\x00" in scope.get("path", "")
        ):
            return await self._reject(send, rid, 400)  # NUL never belongs in a URL; databases refuse it
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        path = scope["path"]
        max_body = self._limit(path)
        if length is not None and (not length.isdigit() or int(length) > max_body):
            return await self._reject(send, rid, 413 if length.isdigit() else 400, path=path)

        received = 0

        async def limited_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_body:
                    raise BodyTooLarge()
            return message

        secure = self.secure or scope.get("scheme") == "https"

        async def send_with_id(message):
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                message["headers"] = security_headers(
                    list(message.get("headers") or []) + [(b"x-request-id", rid.encode())],
                    path=scope["path"],
                    secure=secure,
                )
            await send(message)

        try:
            await self.app(scope, limited_receive, send_with_id)
        except BodyTooLarge:
            await self._reject(send, rid, 413, path=path)
            status_holder["status"] = 413
        finally:
            elapsed = time.perf_counter() - start
            route = scope.get("route")
            route_path = getattr(route, "path", None) or "unmatched"
            REQUESTS.labels(scope["method"], route_path, str(status_holder["status"])).inc()
            LATENCY.labels(scope["method"], route_path).observe(elapsed)
            if self.access_log:
                log.info(
                    "request",
                    extra={
                        "method": scope["method"],
                        "path": scope["path"],
                        "status": status_holder["status"],
                        "ms": round(elapsed * 1000, 2),
                    },
                )

    def _limit(self, path: str) -> int:
        for prefix, limit in self.body_limits:
            if path == prefix or path.startswith(prefix + "/"):
                return limit
        return self.max_body

    async def _reject(self, send, rid: str, status: int, *, path: str = "") -> None:
        fhir = is_fhir(path)
        body = (
            _outcome(status)
            if fhir
            else _too_large(rid)
            if status == 413
            else json.dumps(
                {
                    "code": "bad_request",
                    "message": "The request could not be processed.",
                    "errors": [],
                    "request_id": rid,
                }
            ).encode()
        )
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": security_headers(
                    [
                        (b"content-type", b"application/fhir+json" if fhir else b"application/json"),
                        (b"content-length", str(len(body)).encode()),
                        (b"x-request-id", rid.encode()),
                    ],
                    path="",
                    secure=self.secure,
                ),
            }
        )
        await send({"type": "http.response.body", "body": body})


class BodyTooLarge(HTTPException):
    """An HTTPException so FastAPI's body reader passes it through as a 413."""

    def __init__(self) -> None:
        super().__init__(status_code=413)
