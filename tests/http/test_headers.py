"""Issue 15, item 6: security headers on every answer, no caching of anything that may carry patient
data, HSTS when served over HTTPS."""

from __future__ import annotations

import re

import httpx

from tests.factories import identity as accounts
from tests.factories import org as orgf
from tests.factories import patients as pf
from zhiyi.app import create_app

EVERY = {"content-security-policy", "x-content-type-options", "x-frame-options", "referrer-policy"}


def assert_secured(r: httpx.Response) -> None:
    missing = EVERY - set(r.headers)
    assert not missing, f"{r.request.url.path} lacks {missing}"
    csp = r.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp and "'unsafe-inline'" not in csp
    assert r.headers["x-content-type-options"] == "nosniff" and r.headers["x-frame-options"] == "DENY"


async def test_patient_data_is_never_cached_and_always_framed_out(client, session):
    main = await orgf.campus(session, code="MAIN", is_main=True)
    p = await pf.patient(session, campus=main)
    acct = await accounts.account(session, username="hdr-pat", roles={"patient"}, patient=p)
    headers = await accounts.bearer(session, acct)
    api = await client.get(f"/api/v1/patients/{p.id}", headers=headers)
    assert api.status_code == 200
    assert_secured(api)
    assert api.headers["cache-control"] == "no-store"
    page = await client.get("/login")
    assert_secured(page)
    assert page.headers["cache-control"] == "no-store"
    refused = await client.get(f"/api/v1/patients/{p.id}")
    assert refused.status_code == 401
    assert_secured(refused)
    assert "strict-transport-security" not in api.headers  # plain HTTP here: HSTS would be ignored


async def test_static_assets_may_be_cached(client):
    r = await client.get("/static/zhiyi.css")
    assert r.status_code == 200 and r.headers.get("cache-control") != "no-store"
    assert_secured(r)


async def test_the_edge_own_refusals_carry_the_headers_too(client):
    r = await client.post(
        "/api/v1/auth/token",
        content=b"x" * (300 * 1024),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 413
    assert_secured(r)
    assert r.headers["cache-control"] == "no-store"


async def test_hsts_when_served_over_https(db, settings):
    app = create_app(settings.model_copy(update={"secure_cookies": True}), database=db)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://t") as c:
        r = await c.get("/livez")
    assert r.headers["strict-transport-security"].startswith("max-age=31536000")


async def test_api_docs_come_from_this_server_with_a_nonce(client):
    r = await client.get("/docs")
    assert r.status_code == 200
    csp = r.headers["content-security-policy"]
    nonce = csp.split("'nonce-", 1)[1].split("'", 1)[0]
    assert f'<script nonce="{nonce}">' in r.text
    # every file from this server: no address of another host (the random nonce may spell "cdn")
    assert not re.search(r"""(src|href|url)\s*[=:(]\s*['"]?(https?:)?//""", r.text), r.text
    assert (await client.get("/api-docs-assets/swagger-ui-bundle.js")).status_code == 200
    assert (await client.get("/docs")).headers["content-security-policy"] != csp  # a nonce per answer
