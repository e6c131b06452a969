"""JSON routes of the identity domain: OAuth2 password flow, refresh, sign-up, me."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm

from zhiyi.core import requestctx
from zhiyi.core.errors import NotAuthenticated
from zhiyi.core.policy import Actor
from zhiyi.domains.identity import service
from zhiyi.domains.identity.models import Account
from zhiyi.domains.identity.schemas import CodeRequest, MeRead, Preferences, RefreshIn, SignUp, TokenRead
from zhiyi.domains.org import service as org
from zhiyi.http.auth import api_actor
from zhiyi.http.tx import TxRoute, session_of

router = APIRouter(prefix="/api/v1", tags=["identity"], route_class=TxRoute)


def _me(account: Account) -> MeRead:
    return MeRead(id=account.id, username=account.username, display_name=account.display_name,
                  roles=sorted(account.role_set), patient_id=account.patient_id,
                  practitioner_id=account.practitioner_id, locale=account.locale, elderly_mode=account.elderly_mode)


@router.post("/auth/token", response_model=TokenRead, summary="OAuth2 password flow")
async def token(request: Request, form: Annotated[OAuth2PasswordRequestForm, Depends()]):
    session = session_of(request)
    account = await service.authenticate(session, login=form.username[:60], password=form.password[:128],
                                         client_addr=requestctx.client_addr.get() or "unknown")
    pair = await service.issue_tokens(session, account=account)
    return TokenRead(**pair.__dict__)


@router.post("/auth/refresh", response_model=TokenRead, summary="Rotate a refresh token")
async def refresh(request: Request, body: RefreshIn):
    pair = await service.refresh_tokens(session_of(request), refresh_token=body.refresh_token)
    return TokenRead(**pair.__dict__)


@router.post("/auth/logout", status_code=204, summary="Revoke a refresh token")
async def logout(request: Request, body: RefreshIn):
    await service.revoke_refresh(session_of(request), refresh_token=body.refresh_token)


@router.post("/auth/signup/code", status_code=202, summary="Send a one-time code to a phone")
async def signup_code(request: Request, body: CodeRequest):
    locale = "en" if (request.headers.get("accept-language") or "").startswith("en") else "zh_CN"
    await service.send_phone_code(session_of(request), phone=body.phone, purpose="signup", locale=locale,
                                  client_addr=requestctx.client_addr.get() or "unknown")
    return {"sent": True}


@router.post("/auth/signup", response_model=MeRead, status_code=201, summary="Patient sign-up with a verified phone")
async def signup(request: Request, body: SignUp):
    session = session_of(request)
    campus = await org.campus_by_code(session, code=body.campus_code)
    account = await service.sign_up_patient(
        session, phone=body.phone, code=body.code, password=body.password, name=body.name,
        id_number=body.id_number, campus_id=campus.id, insurance_type=body.insurance_type,
        insurance_number=body.insurance_number)
    return _me(account)


@router.get("/me", response_model=MeRead, summary="The calling account")
async def me(request: Request, actor: Annotated[Actor, Depends(api_actor)]):
    account = await service.get_account(session_of(request), account_id=actor.account_id)
    if account is None:
        raise NotAuthenticated()
    return _me(account)


@router.patch("/me/preferences", response_model=MeRead, summary="Language and elderly mode")
async def preferences(request: Request, actor: Annotated[Actor, Depends(api_actor)], body: Preferences):
    account = await service.set_preferences(session_of(request), account_id=actor.account_id,
                                            locale=body.locale, elderly_mode=body.elderly_mode)
    return _me(account)
