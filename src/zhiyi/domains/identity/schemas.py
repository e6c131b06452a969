"""Pydantic types of the identity domain."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, Field

from zhiyi.core.fields import PersonName, Phone, Strict
from zhiyi.core.i18n import N_
from zhiyi.core.policy import Role


class TokenRead(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"
    expires_in: int


class RefreshIn(Strict):
    refresh_token: str = Field(min_length=10, max_length=200)


class CodeRequest(Strict):
    phone: Phone


class LoginCodeRequest(Strict):
    login: str = Field(min_length=1, max_length=60, description="phone number or username")


# the answer to a request for a sign-in code, whether or not the account has a phone (or exists)
LOGIN_CODE_SENT = N_("If this account has a phone number, a sign-in code was sent to it.")


class CodeSent(BaseModel):
    sent: bool
    message: str


class SignUp(Strict):
    phone: Phone
    code: str = Field(pattern=r"^\d{6}$")
    password: str = Field(min_length=8, max_length=128)
    name: PersonName
    id_number: str = Field(min_length=1, max_length=18)
    campus_code: str = Field(default="MAIN", pattern=r"^[A-Z0-9_]{1,20}$")
    insurance_type: Literal["urban_employee", "urban_rural_resident", "commercial", "self_pay"] = "self_pay"
    insurance_number: str | None = Field(default=None, pattern=r"^[A-Za-z0-9]{4,30}$")


class Preferences(Strict):
    locale: Literal["zh_CN", "en"] | None = None
    elderly_mode: bool | None = None


class MeRead(BaseModel):
    id: uuid.UUID
    username: str
    display_name: str
    roles: list[str]
    patient_id: uuid.UUID | None
    practitioner_id: uuid.UUID | None
    locale: str | None
    elderly_mode: bool


class AccountChange(Strict):
    """An admin's change of an account: takes effect at once, on every token and web session."""

    is_active: bool | None = None
    roles: list[Role] | None = Field(default=None, min_length=1, max_length=len(Role))


class AccountRead(BaseModel):
    id: uuid.UUID
    username: str
    display_name: str
    roles: list[str]
    is_active: bool


class StaffCreate(Strict):
    """A staff account made on the admin's page."""

    username: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{2,39}$")
    display_name: PersonName
