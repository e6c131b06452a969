"""Operations endpoints: health, metrics, OpenAPI, request ids."""

from __future__ import annotations


async def test_healthz(client):
    r = await client.get("/healthz")
    assert r.status_code == 200 and r.json() == {"status": "ok", "database": "ok"}
    assert len(r.headers["x-request-id"]) == 16


async def test_metrics_count_requests(client):
    await client.get("/healthz")
    r = await client.get("/metrics")
    assert r.status_code == 200
    assert 'zhiyi_http_requests_total{method="GET",route="/healthz",status="200"}' in r.text


async def test_openapi_documents_the_api(client):
    spec = (await client.get("/openapi.json")).json()
    for path in ("/api/v1/auth/token", "/api/v1/patients/{patient_id}", "/api/v1/org/departments", "/healthz"):
        assert path in spec["paths"]
    assert (await client.get("/docs")).status_code == 200
