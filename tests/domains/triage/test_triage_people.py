"""Whom a complaint is about, named in the page's language (issue 16, item 7: the choice read
"小明zh (child)", the stored relationship code)."""

from __future__ import annotations

import pytest

from tests.domains.scheduling.test_web import login, world  # noqa: F401  (fixture)


@pytest.mark.parametrize(
    ("locale", "label", "raw"),
    [("zh-CN", "老父亲 · 父母", "(parent)"), ("en", "老父亲 · Parent", "(parent)")],
)
async def test_family_members_are_named_in_the_pages_language(client, world, locale, label, raw):  # noqa: F811
    await login(client, "me")
    page = await client.get("/triage", headers={"accept-language": locale})
    assert page.status_code == 200
    assert label in page.text and raw not in page.text
