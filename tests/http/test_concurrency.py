"""Concurrent requests on a real database (own connections, real commits): reads of patient
data write audit rows, so on SQLite they are writers too and must queue, not fail."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from tests.factories import identity as accounts
from tests.factories import org as orgf
from tests.factories import patients as pf
from zhiyi.core.audit import AuditEvent
from zhiyi.domains.patients.models import Patient


async def test_concurrent_audited_reads_and_writes_all_succeed(live_app):
    async with live_app.db.sessionmaker() as s:
        campus = await orgf.campus(s, code="MAIN", is_main=True)
        p = await pf.patient(s, campus=campus, name="并发")
        acct = await accounts.account(s, username="conc", roles={"patient"}, patient=p)
        headers = await accounts.bearer(s, acct)
        await s.commit()
    client = live_app.client
    reads = [client.get(f"/api/v1/patients/{p.id}", headers=headers) for _ in range(30)]
    writes = [
        client.patch(f"/api/v1/patients/{p.id}", headers=headers, json={"address": f"上海市{i}号"})
        for i in range(10)
    ]
    results = await asyncio.gather(*reads, *writes)
    assert [r.status_code for r in results] == [200] * 40
    async with live_app.db.sessionmaker() as s:
        n = await s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.patient_id == p.id))
    assert n == 40


async def test_racing_registrations_of_one_person_give_one_record_and_clear_conflicts(live_app):
    async with live_app.db.sessionmaker() as s:
        campus = await orgf.campus(s, code="MAIN", is_main=True)
        desk = await accounts.account(s, username="desk", roles={"registrar"}, campuses=[campus])
        headers = await accounts.bearer(s, desk)
        await s.commit()
    body = {"name": "同一人", "id_number": pf.id_number(age=50)}
    results = await asyncio.gather(
        *[live_app.client.post("/api/v1/patients", headers=headers, json=body) for _ in range(6)]
    )
    assert sorted(r.status_code for r in results) == [201] + [409] * 5
    async with live_app.db.sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(Patient)) == 1
