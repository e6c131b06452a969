"""Jinja2 rendering with the request's language, elderly mode and CSRF token."""

from __future__ import annotations

import secrets
from pathlib import Path
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, PrefixLoader, select_autoescape

from zhiyi.core.errors import ErrorBody, Forbidden
from zhiyi.core.i18n import negotiate, translator

WEB_DIR = Path(__file__).resolve().parent
_env = Environment(
    loader=ChoiceLoader(
        [
            FileSystemLoader(WEB_DIR / "templates"),
            PackageLoader("zhiyi", "domains"),
            PrefixLoader({"fhir": PackageLoader("zhiyi", "fhir")}),  # "fhir/templates/<page>.html"
        ]
    ),
    autoescape=select_autoescape(["html"]),
    extensions=["jinja2.ext.i18n"],
    trim_blocks=True,
    lstrip_blocks=True,
)


def locale_of(request: Request) -> str:
    prefs = getattr(request.state, "prefs", None)
    chosen = request.session.get("locale") or (prefs[0] if prefs else None)
    locale = negotiate(request.headers.get("accept-language"), chosen)
    request.state.locale = locale
    return locale


def elderly_of(request: Request) -> bool:
    prefs = getattr(request.state, "prefs", None)
    if prefs is not None:
        return bool(prefs[1])
    return bool(request.session.get("elderly"))


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(24)
        request.session["csrf"] = token
    return token


async def check_csrf(request: Request) -> None:
    """Forms carry the session's token; a missing or wrong one is refused with 403."""
    form = await request.form()
    sent = form.get("csrf") or request.headers.get("x-csrf-token")
    expected = request.session.get("csrf")
    if not expected or not isinstance(sent, str) or not secrets.compare_digest(sent, expected):
        raise Forbidden("The form has expired; reload the page and try again.", code="csrf_failed")


def render_text(request: Request, template: str, **ctx) -> str:
    """A page or a fragment of one (live pages stream fragments) in the reader's language."""
    t = translator(locale_of(request))
    return _env.get_template(template).render(
        request=request,
        _=t.gettext,
        gettext=t.gettext,
        ngettext=t.ngettext,
        t=t,
        lang=t.html_lang,
        locale=t.locale,
        elderly=elderly_of(request),
        csrf=csrf_token(request),
        actor=getattr(request.state, "actor", None),
        **ctx,
    )


def render(
    request: Request, template: str, status: int = 200, headers: dict | None = None, **ctx
) -> HTMLResponse:
    return HTMLResponse(render_text(request, template, **ctx), status_code=status, headers=headers)


def error_page(request: Request, status: int, body: ErrorBody, headers: dict | None = None) -> HTMLResponse:
    if status == 401:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return HTMLResponse(
            "", status_code=303, headers={"Location": "/login?next=" + quote(target, safe="")}
        )
    return render(request, "error.html", status=status, headers=headers, error=body, status_code=status)
