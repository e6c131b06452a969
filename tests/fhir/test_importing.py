"""`zhiyi fhir import` / `export` on a real database of each backend (imports commit), and the admins' page
of the repository."""

from __future__ import annotations

import asyncio
import collections
import json
import os
import shutil
import uuid
from pathlib import Path

import orjson
import pytest
from sqlalchemy import func, select, text
from typer.testing import CliRunner

from tests.conftest import _pg_create, _pg_drop, make_settings, shared_data
from tests.factories import identity as accounts
from tests.factories import org as orgf
from tests.web.test_pages import web_login
from zhiyi.cli import app as cli_app
from zhiyi.core import migrate
from zhiyi.core.audit import AuditEvent
from zhiyi.core.db import Database
from zhiyi.fhir import importing, store
from zhiyi.fhir.access import Access
from zhiyi.fhir.models import FhirImport

SYNTHEA = "Ned_Hintz_e4b9259d-0f54-48d1-a35d-b526729a4dfe.json"
WHOLE = Access(None, None)
runner = CliRunner()


@pytest.fixture
async def fresh_db(fresh_db_url):
    await asyncio.to_thread(migrate.upgrade, fresh_db_url)
    db = Database(make_settings(fresh_db_url))
    try:
        yield db
    finally:
        await db.dispose()


@pytest.fixture
def other_db_url(backend, tmp_path):
    """A second empty database of the backend (an export loaded somewhere else)."""
    if backend.name == "sqlite":
        yield f"sqlite:///{tmp_path / 'other.db'}"
        return
    name = f"zhiyi_other_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    url = _pg_create(name)
    try:
        yield url
    finally:
        _pg_drop(name)


def patient(pid: str, **more) -> dict:
    return {"resourceType": "Patient", "id": pid, "name": [{"family": f"F{pid}"}], **more}


def observation(oid: str, pid: str) -> dict:
    return {
        "resourceType": "Observation",
        "id": oid,
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
        "subject": {"reference": f"Patient/{pid}"},
    }


def ndjson(path: Path, lines: list) -> Path:
    path.write_bytes(b"".join((x if isinstance(x, bytes) else orjson.dumps(x)) + b"\n" for x in lines))
    return path


async def counts(db) -> dict[str, tuple[int, int]]:
    async with db.sessionmaker() as s:
        return {c.type: (c.current, c.versions) for c in await importing.counts_by_type(s)}


async def import_rows(db) -> list[FhirImport]:
    async with db.sessionmaker() as s:
        return await importing.import_history(s)


async def imports_audited(db) -> int:
    async with db.sessionmaker() as s:
        return await s.scalar(select(func.count()).where(AuditEvent.action == "fhir.import"))


async def test_a_synthea_bundle_loads_as_a_transaction_and_a_second_run_skips_it(fresh_db):
    path = shared_data("synthea-r4", SYNTHEA)
    bundle = json.loads(path.read_text())
    expected = collections.Counter(e["resource"]["resourceType"] for e in bundle["entry"])
    seen = []
    report = await importing.import_file(fresh_db, path, progress=lambda *a: seen.append(a))
    assert (report.status, report.kind, report.loaded, report.failed) == ("done", "transaction", 71, 0)
    assert seen[0] == (str(path), 0, 71) and seen[-1] == (str(path), 71, 71)
    assert await counts(fresh_db) == {t: (n, n) for t, n in expected.items()}
    again = await importing.import_file(fresh_db, path)
    assert (again.status, again.loaded, again.skipped) == ("skipped", 0, 71)
    assert await counts(fresh_db) == {t: (n, n) for t, n in expected.items()}
    [row] = await import_rows(fresh_db)
    assert (row.status, row.loaded, row.failed, row.position) == ("done", 71, 0, 71) and row.finished_at
    assert await imports_audited(fresh_db) == 1


async def test_a_transaction_is_all_or_nothing_and_a_batch_keeps_what_succeeds(fresh_db, tmp_path):
    entries = [
        {"resource": patient("t1"), "request": {"method": "PUT", "url": "Patient/t1"}},
        {
            "resource": patient("t2", birthDate="1990-13-45"),
            "request": {"method": "PUT", "url": "Patient/t2"},
        },
        {"resource": patient("t3"), "request": {"method": "PUT", "url": "Patient/t3"}},
    ]
    transaction = tmp_path / "transaction.json"
    transaction.write_text(json.dumps({"resourceType": "Bundle", "type": "transaction", "entry": entries}))
    report = await importing.import_file(fresh_db, transaction)
    assert (report.status, report.loaded, report.failed) == ("failed", 0, 3)
    [error] = report.errors
    assert error["at"] == 2 and "birthDate" in error["diagnostics"]
    assert await counts(fresh_db) == {}
    batch = tmp_path / "batch.json"
    batch.write_text(json.dumps({"resourceType": "Bundle", "type": "batch", "entry": entries}))
    report = await importing.import_file(fresh_db, batch)
    assert (report.status, report.loaded, report.failed) == ("done", 2, 1)
    assert [e["at"] for e in report.errors] == [2]
    assert await counts(fresh_db) == {"Patient": (2, 2)}
    statuses = {Path(r.source).name: (r.status, r.loaded, r.failed) for r in await import_rows(fresh_db)}
    assert statuses == {"transaction.json": ("failed", 0, 3), "batch.json": ("done", 2, 1)}
    assert await imports_audited(fresh_db) == 2


async def test_ndjson_reports_its_bad_lines_and_loads_the_others(fresh_db, tmp_path):
    path = ndjson(
        tmp_path / "mixed.ndjson",
        [
            patient("p1"),
            observation("o1", "p1"),
            b'{"resourceType": "Patient", "id": ',  # line 3: cut short
            {"resourceType": "Wizard", "id": "w1"},  # line 4: a type not served
            patient("p2", birthDate="1990-13-45"),  # line 5: invalid
            b"",  # line 6: blank, nothing to load
            {"resourceType": "Patient", "name": [{"family": "NoId"}]},  # line 7: created with a new id
            patient("p3"),
        ],
    )
    report = await importing.import_file(fresh_db, path, chunk=2)
    assert (report.status, report.kind, report.loaded, report.failed) == ("done", "ndjson", 4, 3)
    assert [e["at"] for e in report.errors] == [3, 4, 5]
    assert "not JSON" in report.errors[0]["diagnostics"]
    assert "Wizard" in report.errors[1]["diagnostics"]
    assert "birthDate" in report.errors[2]["diagnostics"]
    assert await counts(fresh_db) == {"Observation": (1, 1), "Patient": (3, 3)}
    [row] = await import_rows(fresh_db)
    assert (row.status, row.position, row.loaded, row.failed) == ("done", 8, 4, 3)
    assert [e["at"] for e in row.errors] == [3, 4, 5]
    async with fresh_db.sessionmaker() as s:
        assert (await store.read(s, WHOLE, "Observation", "o1")).content["subject"] == {
            "reference": "Patient/p1"
        }


class Crash(Exception):
    pass


async def test_an_import_stopped_after_a_chunk_resumes_after_it_and_loads_no_line_twice(fresh_db, tmp_path):
    lines = [patient(f"r{i}") for i in range(1, 8)]
    lines[4] = {"resourceType": "Patient", "id": "bad id!"}  # line 5 fails, in the second run
    path = ndjson(tmp_path / "resume.ndjson", lines)

    def crash_after_the_first_chunk(source: str, done: int, total: int | None) -> None:
        assert total == 7
        if done >= 3:
            raise Crash()

    with pytest.raises(Crash):
        await importing.import_file(fresh_db, path, chunk=3, progress=crash_after_the_first_chunk)
    [row] = await import_rows(fresh_db)
    assert (row.status, row.position, row.loaded, row.failed) == ("running", 3, 3, 0)
    assert await counts(fresh_db) == {"Patient": (3, 3)}

    report = await importing.import_file(fresh_db, path, chunk=3)
    assert (report.status, report.loaded, report.failed, report.skipped) == ("done", 6, 1, 3)
    assert [e["at"] for e in report.errors] == [5]
    assert await counts(fresh_db) == {"Patient": (6, 6)}  # one version each: nothing loaded twice
    async with fresh_db.sessionmaker() as s:
        assert {(await store.read(s, WHOLE, "Patient", f"r{i}")).version for i in (1, 2, 3, 4, 6, 7)} == {1}
    [row] = await import_rows(fresh_db)
    assert (row.status, row.position, row.loaded, row.failed) == ("done", 7, 6, 1)
    assert (await importing.import_file(fresh_db, path)).status == "skipped"
    assert await imports_audited(fresh_db) == 1


async def test_a_collection_and_a_single_resource_are_put_by_id(fresh_db, tmp_path):
    collection = tmp_path / "collection.json"
    entries = [{"resource": patient("c1")}, {"resource": observation("c2", "c1")}, {"fullUrl": "x"}]
    collection.write_text(json.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries}))
    report = await importing.import_file(fresh_db, collection)
    assert (report.kind, report.status, report.loaded, report.failed) == ("collection", "done", 2, 1)
    single = tmp_path / "one.json"
    single.write_text(json.dumps(patient("c1", gender="female")))
    report = await importing.import_file(fresh_db, single)
    assert (report.kind, report.loaded) == ("resource", 1)
    assert await counts(fresh_db) == {"Observation": (1, 1), "Patient": (1, 2)}
    unreadable = tmp_path / "broken.json"
    unreadable.write_text("{")
    report = await importing.import_file(fresh_db, unreadable)
    assert (report.status, report.failed) == ("failed", 1) and "not JSON" in report.errors[0]["diagnostics"]


def _without_meta(resource: dict) -> dict:
    return {k: v for k, v in resource.items() if k != "meta"}


def _exported(folder: Path) -> dict[str, list[dict]]:
    return {
        p.stem: sorted((_without_meta(orjson.loads(line)) for line in p.read_bytes().splitlines()), key=str)
        for p in sorted(folder.glob("*.ndjson"))
    }


async def test_an_export_loaded_into_a_fresh_database_gives_the_same_resources(
    fresh_db, other_db_url, tmp_path
):
    await importing.import_file(fresh_db, shared_data("synthea-r4", SYNTHEA))
    async with fresh_db.sessionmaker() as s:  # a deleted resource is not exported
        await store.delete(
            s, WHOLE, "Observation", (await store.search(s, WHOLE, "Observation", [])).matches[0].id
        )
        await s.commit()
    first = await counts(fresh_db)
    seen = []
    written = await importing.export_ndjson(
        fresh_db, tmp_path / "out", page=7, progress=lambda *a: seen.append(a)
    )
    assert written == {t: n for t, (n, _) in first.items()}
    assert ("Observation", first["Observation"][0], first["Observation"][0]) in seen
    await asyncio.to_thread(migrate.upgrade, other_db_url)
    other = Database(make_settings(other_db_url))
    try:
        for path in sorted((tmp_path / "out").glob("*.ndjson")):
            report = await importing.import_file(other, path)
            assert (report.status, report.failed) == ("done", 0), report.errors
        assert await counts(other) == {t: (n, n) for t, (n, _) in first.items()}
        await importing.export_ndjson(other, tmp_path / "again")
    finally:
        await other.dispose()
    assert _exported(tmp_path / "again") == _exported(tmp_path / "out")
    only = await importing.export_ndjson(fresh_db, tmp_path / "patients", types=["Patient"])
    assert only == {"Patient": 1} and [p.name for p in (tmp_path / "patients").iterdir()] == [
        "Patient.ndjson"
    ]
    with pytest.raises(ValueError, match="Wizard"):
        await importing.export_ndjson(fresh_db, tmp_path / "x", types=["Wizard"])


def test_the_command_imports_folders_reports_each_file_and_exports(fresh_db_url, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(shared_data("synthea-r4", SYNTHEA), folder / SYNTHEA)
    ndjson(folder / "more.ndjson", [patient("m1"), patient("m2")])
    (folder / "notes.txt").write_text("not loaded")
    result = runner.invoke(cli_app, ["fhir", "import", str(folder), "--db", fresh_db_url])
    assert result.exit_code == 0, result.output
    assert result.output.count("done") == 2 and "notes.txt" not in result.output
    again = runner.invoke(cli_app, ["import-fhir", str(folder / "more.ndjson"), "--db", fresh_db_url])
    assert again.exit_code == 0 and "skipped" in again.output, again.output
    bad = ndjson(tmp_path / "bad.ndjson", [patient("m3"), b"nope"])
    failed = runner.invoke(cli_app, ["fhir", "import", str(bad), "--db", fresh_db_url])
    assert failed.exit_code == 1 and "not JSON" in failed.output, failed.output
    out = tmp_path / "out"
    exported = runner.invoke(cli_app, ["fhir", "export", str(out), "--type", "Patient", "--db", fresh_db_url])
    assert exported.exit_code == 0, exported.output
    assert len((out / "Patient.ndjson").read_bytes().splitlines()) == 4  # Ned, m1, m2, m3
    unknown = runner.invoke(cli_app, ["export-fhir", str(out), "--type", "Wizard", "--db", fresh_db_url])
    assert unknown.exit_code == 2 and "Wizard" in unknown.output


# ---- the admins' page ----------------------------------------------------------------------------------


@pytest.fixture
async def staff(session):
    campus = await orgf.campus(session, code="MAIN", is_main=True)
    await accounts.account(session, username="chief", roles={"admin"}, group_wide=True)
    await accounts.account(session, username="campus-admin", roles={"admin"}, campuses=[campus])
    await accounts.account(session, username="nurse", roles={"nurse"}, campuses=[campus])
    await session.commit()


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("zh-CN", ["FHIR 数据仓库", "各类型资源数", "导入记录", "已完成", "失败", "第 1 条"]),
        ("en", ["FHIR repository", "Resources by type", "Imports", "Done", "Failed", "No. 1"]),
    ],
)
async def test_a_group_wide_admin_sees_the_counts_and_the_imports(client, db, staff, tmp_path, lang, words):
    await importing.import_file(db, ndjson(tmp_path / "people.ndjson", [b"{", patient("a1"), patient("a2")]))
    async with db.sessionmaker() as s:
        await store.update(s, WHOLE, "Patient", "a2", patient("a2", gender="male"))
        await s.commit()
    client.headers["accept-language"] = lang
    await web_login(client, "chief")
    page = await client.get("/admin/fhir")
    assert page.status_code == 200 and f'lang="{lang}"' in page.text
    for word in words:
        assert word in page.text, word
    assert (
        '<tr data-type="Patient"><td>Patient</td><td class="current">2</td><td class="versions">3</td>'
        in page.text
    )
    assert "people.ndjson" in page.text and "not JSON" in page.text
    accounts_page = await client.get("/admin/accounts")
    assert 'href="/admin/fhir"' in accounts_page.text


@pytest.mark.parametrize("who", ["nurse", "campus-admin"])
async def test_others_are_refused_with_a_page(client, staff, who):
    await web_login(client, who)
    page = await client.get("/admin/fhir")
    assert page.status_code == 403 and page.headers["content-type"].startswith("text/html")
    assert "<html" in page.text and "Patient" not in page.text
    if who == "campus-admin":
        assert 'href="/admin/fhir"' not in (await client.get("/admin/accounts")).text


async def test_nobody_signed_in_is_sent_to_sign_in(client):
    page = await client.get("/admin/fhir")
    assert page.status_code == 303 and page.headers["location"].startswith("/login")


async def test_after_a_load_the_planner_has_statistics(fresh_db):
    """refresh_statistics: ANALYZE written (SQLite keeps it in sqlite_stat1), and on PostgreSQL a VACUUM
    too (the pages all-visible, so searches read the covering indexes alone)."""
    async with fresh_db.sessionmaker() as session:
        await store.create(session, WHOLE, {"resourceType": "Patient"})
        await session.commit()
    await importing.refresh_statistics(fresh_db)
    async with fresh_db.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            row = (
                await conn.execute(
                    text(
                        "SELECT last_vacuum IS NOT NULL, last_analyze IS NOT NULL "
                        "FROM pg_stat_user_tables WHERE relname = 'fhir_resource'"
                    )
                )
            ).one()
            assert tuple(row) == (True, True)
        else:
            tables = (await conn.execute(text("SELECT tbl FROM sqlite_stat1"))).scalars().all()
            assert "fhir_resource" in tables
