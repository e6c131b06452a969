"""Issue 16, acceptance 3: no raw JSON error is reachable from a page. Every page route of the app
(found from the app itself, so a route added later is walked too) is asked with bad ids (malformed
and unknown), as nobody, as a patient and as a registrar, with the form's CSRF token and an empty
form, in Chinese and in English: an error is an HTML page in the page's language, never JSON and
never a 5xx."""

from __future__ import annotations

import re
import uuid

import pytest
from fastapi.routing import APIRoute

from tests.web.test_pages import csrf_of, web_login, world  # noqa: F401  (fixture)
from zhiyi.domains import registry
from zhiyi.web import pages

NOT_PAGES = ("/docs", "/openapi", "/static", "/healthz", "/metrics", "/api", "/fhir")
SIGNS_OUT = ("/logout",)  # walked last: it ends the session the walk needs
LANG = {"zh-CN": 'lang="zh-CN"', "en": 'lang="en"'}


def page_routes() -> list[tuple[str, str]]:
    """Every page route, from the routers the app includes for pages (app.py: pages, then the domains')."""
    out = []
    for router in (pages.router, *registry.WEB_ROUTERS):
        for r in router.routes:
            if isinstance(r, APIRoute) and not r.path.startswith(NOT_PAGES):
                out.extend((m, r.path) for m in sorted(r.methods - {"HEAD"}))
    return sorted(out, key=lambda mp: mp[1] in SIGNS_OUT)


def with_ids(path: str, value: str) -> str:
    return re.sub(r"\{[^}]+\}", value, path)


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
@pytest.mark.parametrize("who", [None, "alice", "desk"])
async def test_every_page_route_answers_errors_as_pages_in_the_pages_language(client, world, locale, who):  # noqa: F811
    client.headers["accept-language"] = locale
    if who:
        assert (await web_login(client, who)).status_code == 303
    csrf = csrf_of((await client.get("/login")).text) if not who else None
    routes = page_routes()
    assert len(routes) > 40  # the walk found the pages (not an empty app)
    seen_errors = 0
    for method, path in routes:
        for value in ("not-an-id", str(uuid.uuid4())):
            url = with_ids(path, value)
            if method == "GET":
                r = await client.get(url)
            else:
                token = csrf or csrf_of((await client.get("/")).text)
                r = await client.request(method, url, data={"csrf": token})
            assert r.status_code < 500, (method, url, r.status_code, r.text[:300])
            if r.status_code >= 400:
                seen_errors += 1
                kind = r.headers.get("content-type", "")
                if kind.startswith("text/event-stream"):
                    continue
                assert kind.startswith("text/html"), (method, url, r.status_code, kind, r.text[:200])
                assert not r.text.lstrip().startswith("{"), (method, url)
                assert LANG[locale] in r.text[:300], (method, url, r.text[:300])
    assert seen_errors > (10 if who is None else 40)  # bad ids were refused: the walk is not vacuous
