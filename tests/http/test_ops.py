"""Operations endpoints: health, metrics, OpenAPI, request ids."""

from __future__ import annotations

from tests.factories import identity as accounts
from zhiyi.core.config import get_settings


async def test_healthz(client):
    r = await client.get("/healthz")
    assert r.status_code == 200 and r.json() == {"status": "ok", "database": "ok"}
    assert len(r.headers["x-request-id"]) == 16


async def test_metrics_count_requests_for_an_admin(client, session):
    admin = await accounts.account(session, username="ops-admin", roles={"admin"})
    await client.get("/healthz")
    r = await client.get("/metrics", headers=await accounts.bearer(session, admin))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    assert 'zhiyi_http_requests_total{method="GET",route="/healthz",status="200"}' in r.text


async def test_metrics_are_not_public(client, session):
    """Request counts by route tell an outsider what the hospital's staff do, and when."""
    nurse = await accounts.account(session, username="ops-nurse", roles={"nurse"})
    assert (await client.get("/metrics")).status_code == 401
    assert (await client.get("/metrics", headers={"Authorization": "Bearer nonsense"})).status_code == 401
    assert (await client.get("/metrics", headers=await accounts.bearer(session, nurse))).status_code == 403


async def test_metrics_answer_a_scraper_with_the_metrics_token(client, monkeypatch):
    monkeypatch.setattr(get_settings(), "metrics_token", "scrape-" + "x1y2z3" * 6)
    ok = await client.get("/metrics", headers={"Authorization": "Bearer scrape-" + "x1y2z3" * 6})
    assert ok.status_code == 200 and "zhiyi_http_requests_total" in ok.text
    assert (await client.get("/metrics", headers={"Authorization": "Bearer scrape-wrong"})).status_code == 401


async def test_openapi_documents_the_api(client):
    spec = (await client.get("/openapi.json")).json()
    for path in (
        "/api/v1/auth/token",
        "/api/v1/patients/{patient_id}",
        "/api/v1/org/departments",
        "/healthz",
    ):
        assert path in spec["paths"]
    assert (await client.get("/docs")).status_code == 200


async def test_openapi_documents_every_error_with_the_error_body(client):
    """Issue 15, item 10: not only 2xx and 422; the error body's schema; /metrics as text."""
    spec = (await client.get("/openapi.json")).json()
    assert (
        "ErrorResponse" in spec["components"]["schemas"]
        and "HTTPValidationError" not in spec["components"]["schemas"]
    )
    ref = {"$ref": "#/components/schemas/ErrorResponse"}
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            if not path.startswith("/api/"):
                continue
            for code in ("400", "401", "403", "404", "422"):
                assert op["responses"][code]["content"]["application/json"]["schema"] == ref, (
                    method,
                    path,
                    code,
                )
            if method in ("post", "put", "patch", "delete"):
                assert {"409", "429"} <= set(op["responses"]), (method, path)
    metrics = spec["paths"]["/metrics"]["get"]["responses"]
    assert "text/plain" in metrics["200"]["content"] and "application/json" not in metrics["200"]["content"]
    assert {"401", "403"} <= set(metrics)
    token = spec["paths"]["/api/v1/auth/token"]["post"]["responses"]
    assert {"401", "429"} <= set(token)
