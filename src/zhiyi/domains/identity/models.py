"""Tables of the identity domain."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from zhiyi.core.db import Base, IdMixin


class Account(IdMixin, Base):
    __tablename__ = "account"

    username: Mapped[str] = mapped_column(String(60), unique=True)
    phone: Mapped[str | None] = mapped_column(String(20), unique=True)
    phone_verified_at: Mapped[dt.datetime | None]
    password_hash: Mapped[str] = mapped_column(String(200))
    display_name: Mapped[str] = mapped_column(String(100))
    roles: Mapped[str] = mapped_column(String(100))  # comma-separated core.policy.Role values
    patient_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("patient.id"), unique=True)
    practitioner_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("practitioner.id"))
    group_wide: Mapped[bool] = mapped_column(default=False)
    locale: Mapped[str | None] = mapped_column(String(10))
    elderly_mode: Mapped[bool] = mapped_column(default=False)
    session_epoch: Mapped[int] = mapped_column(default=0)  # bumped to end every web session
    # in every access token; bumped when the account's tokens must stop working at once (roles changed,
    # disabled, deleted, signed out everywhere)
    token_version: Mapped[int] = mapped_column(default=0)
    is_active: Mapped[bool] = mapped_column(default=True)
    deleted_at: Mapped[dt.datetime | None]  # kept (bookings and audit rows name it), never signs in again
    created_at: Mapped[dt.datetime]
    last_login_at: Mapped[dt.datetime | None]

    @property
    def role_set(self) -> frozenset[str]:
        return frozenset(r for r in self.roles.split(",") if r)


class AccountCampus(Base):
    """Campuses whose patients a staff account may see."""

    __tablename__ = "account_campus"
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("account.id"), primary_key=True)
    campus_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("campus.id"), primary_key=True)


class RefreshToken(IdMixin, Base):
    """One row per refresh token. A sign-in starts a family (one device's session); each rotation adds a
    row to it. The family's access tokens work while one of its rows is live: signing out or a reused
    refresh token ends them at once."""

    __tablename__ = "refresh_token"

    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("account.id"), index=True)
    family_id: Mapped[uuid.UUID] = mapped_column(index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    issued_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]
    revoked_at: Mapped[dt.datetime | None]


class PhoneVerification(IdMixin, Base):
    __tablename__ = "phone_verification"
    __table_args__ = (Index("ix_phone_verification_phone_purpose", "phone", "purpose", "created_at"),)

    phone: Mapped[str] = mapped_column(String(20))
    purpose: Mapped[str] = mapped_column(String(20))
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]
    attempts: Mapped[int] = mapped_column(default=0)
    consumed_at: Mapped[dt.datetime | None]
    client_addr: Mapped[str] = mapped_column(String(64), default="", index=True)


class LoginFailure(IdMixin, Base):
    __tablename__ = "login_failure"
    __table_args__ = (
        Index("ix_login_failure_user_at", "username_key", "at"),
        Index("ix_login_failure_addr_at", "client_addr", "at"),
    )

    username_key: Mapped[str] = mapped_column(String(64))
    client_addr: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime]
