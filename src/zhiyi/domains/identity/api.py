"""JSON routes of the identity domain: OAuth2 password flow, refresh, sign-up, me."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.security import OAuth2PasswordRequestForm

from zhiyi.core import requestctx
from zhiyi.core.errors import NotAuthenticated
from zhiyi.core.i18n import N_, translator
from zhiyi.core.policy import Actor
from zhiyi.domains.identity import admin, service
from zhiyi.domains.identity.models import Account
from zhiyi.domains.identity.schemas import (
    LOGIN_CODE_SENT,
    AccountChange,
    AccountRead,
    CodeRequest,
    CodeSent,
    LoginCodeRequest,
    MeRead,
    Preferences,
    RefreshIn,
    SignUp,
    TokenRead,
)
from zhiyi.domains.org import service as org
from zhiyi.http.auth import api_actor
from zhiyi.http.tx import TxRoute, session_of

router = APIRouter(prefix="/api/v1", tags=["identity"], route_class=TxRoute)
SIGNUP_CODE_SENT = N_("If this number can be used to sign up, a code was sent to it.")


def _me(account: Account) -> MeRead:
    return MeRead(
        id=account.id,
        username=account.username,
        display_name=account.display_name,
        roles=sorted(account.role_set),
        patient_id=account.patient_id,
        practitioner_id=account.practitioner_id,
        locale=account.locale,
        elderly_mode=account.elderly_mode,
    )


def _locale(request: Request) -> str:
    return "en" if (request.headers.get("accept-language") or "").startswith("en") else "zh_CN"


@router.post(
    "/auth/token",
    response_model=TokenRead,
    summary="OAuth2 password flow (with `code` when a second factor is asked)",
)
async def token(
    request: Request,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    code: Annotated[str | None, Form(pattern=r"^\d{6}$", description="a sign-in code sent by SMS")] = None,
):
    session = session_of(request)
    account = await service.authenticate(
        session,
        login=form.username[:60],
        password=form.password[:128],
        client_addr=requestctx.client_addr.get() or "unknown",
        code=code,
        locale=_locale(request),
    )
    pair = await service.issue_tokens(session, account=account)
    return TokenRead(**pair.__dict__)


@router.post("/auth/refresh", response_model=TokenRead, summary="Rotate a refresh token")
async def refresh(request: Request, body: RefreshIn):
    pair = await service.refresh_tokens(session_of(request), refresh_token=body.refresh_token)
    return TokenRead(**pair.__dict__)


@router.post("/auth/logout", status_code=204, summary="Revoke a refresh token")
async def logout(request: Request, body: RefreshIn):
    await service.revoke_refresh(session_of(request), refresh_token=body.refresh_token)


@router.post(
    "/auth/login-code",
    status_code=202,
    response_model=CodeSent,
    summary="Send a sign-in code to the phone of an account (the answer never says whether it exists)",
)
async def login_code(request: Request, body: LoginCodeRequest):
    await service.send_login_code(
        session_of(request),
        login=body.login,
        locale=_locale(request),
        client_addr=requestctx.client_addr.get() or "unknown",
    )
    return CodeSent(sent=True, message=translator(_locale(request)).gettext(LOGIN_CODE_SENT))


@router.post(
    "/auth/signup/code", status_code=202, response_model=CodeSent, summary="Send a one-time code to a phone"
)
async def signup_code(request: Request, body: CodeRequest):
    """Sent whether or not the phone already has an account (the answer is the same), so nobody learns
    which numbers are registered here; signing up with the code then says so to the phone's owner."""
    await service.send_phone_code(
        session_of(request),
        phone=body.phone,
        purpose="signup",
        locale=_locale(request),
        client_addr=requestctx.client_addr.get() or "unknown",
    )
    return CodeSent(sent=True, message=translator(_locale(request)).gettext(SIGNUP_CODE_SENT))


@router.post(
    "/auth/signup", response_model=MeRead, status_code=201, summary="Patient sign-up with a verified phone"
)
async def signup(request: Request, body: SignUp):
    session = session_of(request)
    campus = await org.campus_by_code(session, code=body.campus_code)
    account = await service.sign_up_patient(
        session,
        phone=body.phone,
        code=body.code,
        password=body.password,
        name=body.name,
        id_number=body.id_number,
        campus_id=campus.id,
        insurance_type=body.insurance_type,
        insurance_number=body.insurance_number,
    )
    return _me(account)


@router.get("/me", response_model=MeRead, summary="The calling account")
async def me(request: Request, actor: Annotated[Actor, Depends(api_actor)]):
    account = await service.get_account(session_of(request), account_id=actor.account_id)
    if account is None:
        raise NotAuthenticated()
    return _me(account)


@router.patch("/me/preferences", response_model=MeRead, summary="Language and elderly mode")
async def preferences(request: Request, actor: Annotated[Actor, Depends(api_actor)], body: Preferences):
    account = await service.set_preferences(
        session_of(request), account_id=actor.account_id, locale=body.locale, elderly_mode=body.elderly_mode
    )
    return _me(account)


def _account_read(account: Account) -> AccountRead:
    return AccountRead(
        id=account.id,
        username=account.username,
        display_name=account.display_name,
        roles=sorted(account.role_set),
        is_active=account.is_active,
    )


@router.patch(
    "/accounts/{account_id}",
    response_model=AccountRead,
    summary="Disable, enable or change roles (an admin of the account's campuses; audited)",
)
async def change_account(
    request: Request, actor: Annotated[Actor, Depends(api_actor)], account_id: uuid.UUID, body: AccountChange
):
    account = await admin.change_account(
        session_of(request),
        actor=actor,
        account_id=account_id,
        roles={r.value for r in body.roles} if body.roles is not None else None,
        active=body.is_active,
    )
    return _account_read(account)


@router.delete(
    "/accounts/{account_id}",
    status_code=204,
    summary="Delete an account (an admin of its campuses; audited): it never signs in again",
)
async def delete_account(
    request: Request, actor: Annotated[Actor, Depends(api_actor)], account_id: uuid.UUID
):
    await admin.delete_account(session_of(request), actor=actor, account_id=account_id)
