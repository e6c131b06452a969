"""Audit trail of every read or write of patient data.

Rows are append-only: the application has no update or delete path, and the
migration installs database triggers that refuse UPDATE and DELETE on both backends.
A denied attempt is audited too: the edge writes it after rolling the request back.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import Index, Select, String, and_, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from zhiyi.core import clock, ids, requestctx
from zhiyi.core.db import Base, IdMixin, keep_after_rollback
from zhiyi.core.errors import Forbidden, NotFound
from zhiyi.core.policy import Actor, Decision, Resource, decide


class AuditEvent(IdMixin, Base):
    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_patient_at", "patient_id", "at"),
        Index("ix_audit_event_at", "at"),
        Index("ix_audit_event_actor_at", "actor_account_id", "at"),
    )

    at: Mapped[dt.datetime]
    actor_account_id: Mapped[uuid.UUID | None]
    actor_roles: Mapped[str] = mapped_column(String(100), default="")
    on_behalf_of_patient_id: Mapped[uuid.UUID | None]
    patient_id: Mapped[uuid.UUID | None]
    action: Mapped[str] = mapped_column(String(60))
    resource_type: Mapped[str] = mapped_column(String(60))
    resource_id: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(20))  # allowed | denied | not_found
    request_id: Mapped[str | None] = mapped_column(String(32))
    client_addr: Mapped[str | None] = mapped_column(String(64))
    # why, when the actor had to say (a full ID number shown)
    reason: Mapped[str | None] = mapped_column(String(200))


_INSERT = insert(AuditEvent.__table__)  # Core, built once: no ORM bulk machinery per request


def roles_of(actor: Actor) -> str:
    """An actor's roles as an audit row records them."""
    return ",".join(sorted(actor.roles))


def build_event(
    actor: Actor | None,
    action: str,
    resource_type: str,
    resource_id: object,
    *,
    patient_id: uuid.UUID | None,
    outcome: str,
    on_behalf_of: uuid.UUID | None = None,
    reason: str | None = None,
) -> AuditEvent:
    return AuditEvent(
        **event_values(
            actor,
            action,
            resource_type,
            resource_id,
            patient_id=patient_id,
            outcome=outcome,
            on_behalf_of=on_behalf_of,
            reason=reason,
        )
    )


def event_values(
    actor: Actor | None,
    action: str,
    resource_type: str,
    resource_id: object,
    *,
    patient_id: uuid.UUID | None,
    outcome: str,
    on_behalf_of: uuid.UUID | None = None,
    reason: str | None = None,
) -> dict:
    return dict(
        id=ids.new_id(),
        at=clock.now(),
        actor_account_id=actor.account_id if actor else None,
        actor_roles=roles_of(actor) if actor else "",
        on_behalf_of_patient_id=on_behalf_of,
        patient_id=patient_id,
        action=action,
        resource_type=resource_type,
        resource_id=str(resource_id) if resource_id is not None else None,
        outcome=outcome,
        request_id=requestctx.request_id.get(),
        client_addr=requestctx.client_addr.get(),
        reason=reason
        or None,  # no reason is NULL, as the one-statement booking writes it (a policy's "" too)
    )


def record(
    session: AsyncSession,
    actor: Actor | None,
    action: str,
    resource_type: str,
    resource_id: object,
    *,
    patient_id: uuid.UUID | None,
    on_behalf_of: uuid.UUID | None = None,
    outcome: str = "allowed",
    reason: str | None = None,
) -> None:
    event = build_event(
        actor,
        action,
        resource_type,
        resource_id,
        patient_id=patient_id,
        outcome=outcome,
        on_behalf_of=on_behalf_of,
        reason=reason,
    )
    session.add(event)


async def write(
    session: AsyncSession,
    actor: Actor | None,
    action: str,
    resource_type: str,
    resource_id: object,
    *,
    patient_id: uuid.UUID | None,
    on_behalf_of: uuid.UUID | None = None,
    reason: str | None = None,
) -> None:
    """Audit an action that was done (a booking made): one INSERT now, no unit-of-work bookkeeping."""
    await session.execute(
        _INSERT,
        event_values(
            actor,
            action,
            resource_type,
            resource_id,
            patient_id=patient_id,
            outcome="allowed",
            on_behalf_of=on_behalf_of,
            reason=reason,
        ),
    )


async def guard(
    session: AsyncSession,
    actor: Actor | None,
    action: str,
    resource: Resource,
    *,
    patient_id: uuid.UUID | None,
    reason: str | None = None,
) -> Decision:
    """Decide through core.policy and audit the attempt, allowed or not (with the actor's reason, if
    asked)."""
    decision = await decide(session, actor, action, resource)
    if decision.allowed:
        # one INSERT now (the hot paths all pass here): no unit-of-work bookkeeping
        await session.execute(
            _INSERT,
            event_values(
                actor,
                action,
                resource.kind,
                resource.id,
                patient_id=patient_id,
                outcome="allowed",
                on_behalf_of=decision.on_behalf_of,
                reason=reason or decision.reason,
            ),
        )  # why it was allowed
        return decision
    keep_after_rollback(
        session,
        build_event(
            actor, action, resource.kind, resource.id, patient_id=patient_id, outcome="denied", reason=reason
        ),
    )
    raise Forbidden()


def keep_denied(
    session: AsyncSession,
    actor: Actor | None,
    action: str,
    resource_type: str,
    resource_id: object,
    *,
    patient_id: uuid.UUID | None,
) -> None:
    """Audit a refused attempt; the row survives the request's rollback."""
    keep_after_rollback(
        session,
        build_event(actor, action, resource_type, resource_id, patient_id=patient_id, outcome="denied"),
    )


def missing(
    session: AsyncSession, actor: Actor | None, action: str, resource_type: str, resource_id: object
) -> NotFound:
    keep_after_rollback(
        session, build_event(actor, action, resource_type, resource_id, patient_id=None, outcome="not_found")
    )
    return NotFound()


async def trail(
    session: AsyncSession, *, patient_id: uuid.UUID, limit: int = 200, before: dt.datetime | None = None
) -> list[AuditEvent]:
    q = select(AuditEvent).where(AuditEvent.patient_id == patient_id)
    if before is not None:
        q = q.where(AuditEvent.at < before)
    q = q.order_by(AuditEvent.at.desc()).limit(limit)
    return list((await session.scalars(q)).all())


# --- reading the trail as people do (the privacy officer's page) ---------------------------------

# action -> a message id saying what was done, in words (each domain registers its own)
_ACTIONS: dict[str, str] = {}
_REASONS: dict[str, str] = {}  # a policy's reason for allowing -> a message id


def register_labels(*, actions: dict[str, str], reasons: dict[str, str] | None = None) -> None:
    """A domain's words for its audit actions and its policy's reasons (translated where shown)."""
    _ACTIONS.update(actions)
    _REASONS.update(reasons or {})


def action_labels() -> dict[str, str]:
    return dict(_ACTIONS)


def action_label(action: str, resource_type: str) -> str | None:
    """What was done, as a message id ("read patient" before "read"); None: no domain named it."""
    return _ACTIONS.get(f"{action} {resource_type}") or _ACTIONS.get(action)


def reason_label(reason: str | None) -> str | None:
    """A policy's reason as a message id; a reason a person typed (a broken glass) as it was written."""
    return _REASONS.get(reason, reason) if reason else None


async def search(
    session: AsyncSession,
    *,
    patient_ids: Select | list[uuid.UUID] | None = None,
    actor_account_ids: list[uuid.UUID] | None = None,
    actions: list[str] | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    before: tuple[dt.datetime, uuid.UUID] | None = None,
    with_no_patient: bool = True,
    limit: int = 100,
) -> list[AuditEvent]:
    """Trail rows, newest first, filtered; `before` (at, id) pages on from the last row shown.
    `patient_ids` may be a query of ids (a campus's patients); rows about no patient only when
    `with_no_patient`."""
    q = select(AuditEvent)
    if patient_ids is not None:
        about = AuditEvent.patient_id.in_(patient_ids)
        q = q.where(or_(about, AuditEvent.patient_id.is_(None)) if with_no_patient else about)
    elif not with_no_patient:
        q = q.where(AuditEvent.patient_id.is_not(None))
    if actor_account_ids is not None:
        q = q.where(AuditEvent.actor_account_id.in_(actor_account_ids))
    if actions:
        q = q.where(AuditEvent.action.in_(actions))
    if since is not None:
        q = q.where(AuditEvent.at >= since)
    if until is not None:
        q = q.where(AuditEvent.at < until)
    if before is not None:
        at, row_id = before
        q = q.where(or_(AuditEvent.at < at, and_(AuditEvent.at == at, AuditEvent.id < row_id)))
    return list(
        (await session.scalars(q.order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit))).all()
    )
