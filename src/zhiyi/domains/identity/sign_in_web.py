"""The pages of signing in and out, signing up, and a person's language and elderly mode (a web
session: http/auth.py reads it back through identity/edge.py)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError

from zhiyi.core import clock, requestctx
from zhiyi.core.errors import DomainError
from zhiyi.core.i18n import LOCALES, translator
from zhiyi.domains.identity import service as identity
from zhiyi.domains.identity.schemas import LOGIN_CODE_SENT, CodeRequest, SignUp
from zhiyi.domains.org import service as org
from zhiyi.http.auth import WEB_SESSION_SECONDS, optional_web_actor
from zhiyi.http.tx import TxRoute, session_of
from zhiyi.web.forms import domain_error_message, invalid_fields_message, safe_next
from zhiyi.web.templating import check_csrf, locale_of, render

router = APIRouter(route_class=TxRoute, include_in_schema=False)


async def start_web_session(request: Request, account) -> None:
    """A fresh session on login (no fixation), with a sign-in of its own: logging out ends this device
    only."""
    family = await identity.start_web_sign_in(
        session_of(request), account=account, seconds=WEB_SESSION_SECONDS
    )
    request.session.clear()
    request.session.update(
        {
            "aid": str(account.id),
            "ver": identity.web_session_version(account),
            "sid": str(family),
            "iat": int(clock.now().timestamp()),
        }
    )


def see_other(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


@router.get("/login")
async def login_page(request: Request, next: str = "/", _actor=Depends(optional_web_actor)):
    return render(request, "login.html", next=safe_next(next), username="", message=None, ask_code=False)


@router.post("/login")
async def login(request: Request, _csrf=Depends(check_csrf)):
    form = await request.form()
    username, password = str(form.get("username", ""))[:60], str(form.get("password", ""))[:128]
    code = str(form.get("code", "")).strip()[:6]
    nxt = safe_next(form.get("next"))
    session = session_of(request)
    t = translator(locale_of(request))
    try:
        account = await identity.authenticate(
            session,
            login=username,
            password=password,
            code=code or None,
            client_addr=requestctx.client_addr.get() or "unknown",
            locale=t.locale,
        )
    except DomainError as exc:
        ask_code = exc.code in ("second_factor_required", "login_throttled") or bool(code)
        return render(
            request,
            "login.html",
            status=exc.status,
            next=nxt,
            username=username,
            ask_code=ask_code,
            message=t.gettext(exc.message, **exc.params),
            headers=exc.headers,
        )
    await start_web_session(request, account)
    if account.locale:
        request.session["locale"] = account.locale
    return see_other(nxt)


@router.post("/login/code")
async def login_code(request: Request, _csrf=Depends(check_csrf)):
    """A sign-in code to the account's phone; the page says the same whether or not the account exists."""
    form = await request.form()
    username, nxt = str(form.get("username", ""))[:60], safe_next(form.get("next"))
    t = translator(locale_of(request))
    await identity.send_login_code(
        session_of(request),
        login=username,
        locale=t.locale,
        client_addr=requestctx.client_addr.get() or "unknown",
    )
    return render(
        request, "login.html", next=nxt, username=username, ask_code=True, message=t.gettext(LOGIN_CODE_SENT)
    )


@router.post("/logout")
async def logout(request: Request, actor=Depends(optional_web_actor), _csrf=Depends(check_csrf)):
    if actor is not None:  # this device's sign-in ends; the account's other devices stay signed in
        await identity.end_web_sign_in(
            session_of(request), account_id=actor.account_id, family=uuid.UUID(request.session["sid"])
        )
    locale, elderly = request.session.get("locale"), request.session.get("elderly")
    request.session.clear()
    if locale:
        request.session["locale"] = locale
    if elderly:
        request.session["elderly"] = elderly
    return see_other("/")


@router.post("/prefs/lang")
async def switch_language(request: Request, actor=Depends(optional_web_actor), _csrf=Depends(check_csrf)):
    form = await request.form()
    locale = form.get("locale")
    if locale in LOCALES:
        request.session["locale"] = locale
        if actor is not None:
            await identity.set_preferences(
                session_of(request), account_id=actor.account_id, locale=str(locale)
            )
    return see_other(safe_next(form.get("next")))


@router.post("/prefs/elderly")
async def switch_elderly(request: Request, actor=Depends(optional_web_actor), _csrf=Depends(check_csrf)):
    form = await request.form()
    on = form.get("on") == "1"
    request.session["elderly"] = on
    if actor is not None:
        await identity.set_preferences(session_of(request), account_id=actor.account_id, elderly_mode=on)
    return see_other(safe_next(form.get("next")))


@router.get("/signup")
async def signup_page(request: Request, have_code: str | None = None, _actor=Depends(optional_web_actor)):
    """?have_code=1: the code form at once, for a person who was sent a code and came back to the page."""
    return render(request, "signup.html", form={}, sent=False, have_code=have_code == "1", message=None)


@router.post("/signup/code")
async def signup_code(request: Request, _csrf=Depends(check_csrf)):
    form = await request.form()
    phone = str(form.get("phone", ""))[:20]
    t = translator(locale_of(request))
    try:
        body = CodeRequest(phone=phone)
        await identity.send_phone_code(
            session_of(request),
            phone=body.phone,
            purpose="signup",
            locale=t.locale,
            client_addr=requestctx.client_addr.get() or "unknown",
        )
    except DomainError as exc:  # a code sent a moment ago (429): the form for it stays open
        return render(
            request,
            "signup.html",
            status=exc.status,
            form={"phone": phone},
            sent=False,
            have_code=exc.status == 429,
            message=domain_error_message(t, exc),
        )
    except ValidationError:
        return render(
            request,
            "signup.html",
            status=422,
            form={"phone": phone},
            sent=False,
            have_code=False,
            message=t.gettext("A mainland mobile number has 11 digits starting with 1."),
        )
    return render(request, "signup.html", form={"phone": body.phone}, sent=True, have_code=True, message=None)


@router.post("/signup")
async def signup(request: Request, _csrf=Depends(check_csrf)):
    form = await request.form()
    # bounded, not cut to a field's size: an over-long value is refused with the reason, never shortened
    # and saved
    fields = {k: str(form.get(k, ""))[:1000] for k in ("phone", "code", "password", "name", "id_number")}
    # shown again (not the code or password)
    typed = {k: fields[k][:200] for k in ("phone", "name", "id_number")}
    t = translator(locale_of(request))
    session = session_of(request)
    try:
        body = SignUp(**fields)
        campus = await org.campus_by_code(session, code=body.campus_code)
        account = await identity.sign_up_patient(
            session,
            phone=body.phone,
            code=body.code,
            password=body.password,
            name=body.name,
            id_number=body.id_number,
            campus_id=campus.id,
        )
    except DomainError as exc:
        return render(
            request,
            "signup.html",
            status=exc.status,
            form=typed,
            sent=False,
            have_code=True,
            message=domain_error_message(t, exc),
        )
    except ValidationError as exc:
        return render(
            request,
            "signup.html",
            status=422,
            form=typed,
            sent=False,
            have_code=True,
            message=invalid_fields_message(t, exc),
        )
    await start_web_session(request, account)
    request.session["locale"] = t.locale
    return see_other("/portal")
