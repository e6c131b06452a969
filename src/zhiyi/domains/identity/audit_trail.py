"""The audit trail as a privacy officer reads it (admins, /admin/audit): who (name and role) did what
(in words, each domain's own: core/audit.py's labels), to whom (name and record number), when, from
where and why (the policy's reason: a family member, a desk, in their care, a broken glass with the
reason typed). Filtered by patient (name, record number, ID number, phone or one-code), by actor, by
action and by dates; paged from the last row shown; the many reads of one visit (a booking page
opened twelve times in five minutes) shown as one row with their count.

Here, not in patients/, because it names the actors (accounts are identity's). An admin reads the
trails of their campuses' patients (group-wide admins: all, and the rows about no patient); each
patient shown is an audited read ("audit.read")."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from zhiyi.core import audit
from zhiyi.core.audit import AuditEvent
from zhiyi.core.config import get_settings
from zhiyi.core.errors import Forbidden
from zhiyi.core.policy import Actor, Role
from zhiyi.domains.identity import repository as repo
from zhiyi.domains.patients import service as patients

PAGE_ROWS = 50  # visits shown a page
FETCH = 200  # trail rows read for one page (collapsed into visits)
VISIT = dt.timedelta(minutes=30)  # reads of one thing by one person this close together are one visit
MAX_PATIENTS = 20  # patients one filter may name (a common name's first matches)


@dataclass
class Filters:
    patient: str = ""
    actor: str = ""
    action: str = ""
    since: dt.date | None = None
    until: dt.date | None = None
    before: tuple[dt.datetime, uuid.UUID] | None = None  # the page after this row


@dataclass
class Visit:
    """One row of the page: an event, or the repeats of one read within a visit."""

    last: AuditEvent  # the newest
    first_at: dt.datetime
    count: int = 1


@dataclass
class TrailPage:
    visits: list[Visit] = field(default_factory=list)
    actors: dict[uuid.UUID, tuple[str, str]] = field(default_factory=dict)  # account -> (name, username)
    # patient -> (name, record number)
    patients: dict[uuid.UUID, tuple[str, str]] = field(default_factory=dict)
    next_before: str | None = None  # the cursor of the next page
    matched_patients: int | None = None  # how many the patient filter named (None: no filter)


def cursor(event: AuditEvent) -> str:
    return f"{event.at.astimezone(dt.UTC).isoformat()}|{event.id}"


def parse_cursor(raw: str | None) -> tuple[dt.datetime, uuid.UUID] | None:
    """A cursor from the page's link; None when missing or malformed (the first page)."""
    try:
        at, _, row = (raw or "").partition("|")
        return dt.datetime.fromisoformat(at), uuid.UUID(row)
    except ValueError:
        return None


def collapse(events: list[AuditEvent], *, most: int | None = None) -> tuple[list[Visit], int]:
    """Events newest first -> visits: the same person doing the same thing to the same record within
    VISIT of the visit's earliest event so far is one visit. Stops before the event that would begin
    visit `most` + 1; returns the visits and how many events they took (the next page starts after)."""
    open_visits: dict[tuple, Visit] = {}
    out: list[Visit] = []
    for i, e in enumerate(events):
        key = (
            e.actor_account_id,
            e.action,
            e.resource_type,
            e.resource_id,
            e.patient_id,
            e.outcome,
            e.on_behalf_of_patient_id,
            e.reason,
        )
        visit = open_visits.get(key)
        if visit is not None and visit.first_at - e.at <= VISIT:
            visit.first_at, visit.count = e.at, visit.count + 1
            continue
        if most is not None and len(out) == most:
            return out, i
        open_visits[key] = Visit(last=e, first_at=e.at)
        out.append(open_visits[key])
    return out, len(events)


async def read(session: AsyncSession, *, actor: Actor, filters: Filters) -> TrailPage:
    """One page of the trail for an admin (see the module's docstring for what they may read)."""
    if not actor.has(Role.admin):
        raise Forbidden()
    campuses = None if actor.group_wide else actor.campus_ids
    page = TrailPage()
    patient_ids = patients.ids_at_campuses(campuses) if campuses is not None else None
    if filters.patient.strip():
        named = await patients.match_patients(
            session, campus_ids=campuses, text=filters.patient, limit=MAX_PATIENTS
        )
        page.matched_patients = len(named)
        if not named:
            return page
        patient_ids = [p.id for p in named]
    actor_ids = None
    if filters.actor.strip():
        actor_ids = [
            a.id for a in await repo.find_accounts(session, text=filters.actor.strip(), limit=MAX_PATIENTS)
        ]
        if not actor_ids:
            return page
    zone = ZoneInfo(get_settings().timezone)
    since = dt.datetime.combine(filters.since, dt.time(0), tzinfo=zone) if filters.since else None
    until = (
        dt.datetime.combine(filters.until + dt.timedelta(days=1), dt.time(0), tzinfo=zone)
        if filters.until
        else None
    )
    rows = await audit.search(
        session,
        patient_ids=patient_ids,
        actor_account_ids=actor_ids,
        actions=[filters.action] if filters.action else None,
        since=since,
        until=until,
        before=filters.before,
        with_no_patient=campuses is None and not filters.patient.strip(),
        limit=FETCH,
    )
    visits, used = collapse(rows, most=PAGE_ROWS)
    if used < len(rows) or len(rows) == FETCH:  # more to read: the next page starts after the last row used
        page.next_before = cursor(rows[used - 1])
    page.visits = visits
    page.actors = {
        a.id: (a.display_name, a.username)
        for a in await repo.accounts_by_ids(
            session, {v.last.actor_account_id for v in visits if v.last.actor_account_id}
        )
    }
    people = await patients.patients_by_ids(
        session, ids={v.last.patient_id for v in visits if v.last.patient_id}
    )
    page.patients = {pid: (p.name, p.mrn) for pid, p in people.items()}
    for pid in page.patients:  # reading a patient's trail is itself a read of their data
        audit.record(session, actor, "audit.read", "patient", pid, patient_id=pid)
    return page
