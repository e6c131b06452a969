"""Loading FHIR files into the repository, and writing it out as NDJSON (`zhiyi fhir import` / `export`).

Transport-free: these functions take a `Database` (each transaction its own session and commit), paths
and a progress callback, never a terminal.

- A Bundle of type transaction or batch goes through `bundles.process` with the router, as a POST to
  /fhir would: a transaction is all or nothing (its failing entry's OperationOutcome is reported), a
  batch keeps the entries that succeed.
- Anything else is a stream of resources, each written as a PUT by its id (created when it has none),
  with the REST path's validation: NDJSON (one resource a line: Synthea's and Bulk Data's output), a
  collection or searchset Bundle, or a single resource. The stream is written in chunks, one transaction
  each, and the file's `fhir_import` row records in that transaction how far it got: a re-run after a
  crash resumes after the last committed chunk and never loads a line twice. A line that fails (not JSON,
  not a valid resource, a type not served) is counted and kept in `errors` (the first 100), and the
  import goes on.

A file is known by the sha256 of its content: one already `done` is skipped, wherever it lies now.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import orjson
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from zhiyi.core import audit, clock
from zhiyi.core.db import Database, write_intent
from zhiyi.fhir import bundles, params, router, store, validation
from zhiyi.fhir import importing_repository as repo
from zhiyi.fhir.access import Access
from zhiyi.fhir.errors import FhirError, Issue, invalid
from zhiyi.fhir.exchange import FhirRequest
from zhiyi.fhir.models import FhirImport

__all__ = [
    "CHUNK",
    "MAX_ERRORS",
    "ImportReport",
    "Progress",
    "counts_by_type",
    "export_ndjson",
    "fingerprint",
    "import_file",
    "import_history",
]

CHUNK = 500  # lines (resources) a transaction
MAX_ERRORS = 100  # failures kept on the import's row
EXPORT_PAGE = 1000  # resources read a query when exporting
REPOSITORY = Access(None, None)  # an import writes anywhere in the repository, as a group-wide admin may
# progress(what, done, total): the file (import) or resource type (export), items done so far, and how
# many there are when known
Progress = Callable[[str, int, int | None], None]
_BLOCK = 1 << 20


@dataclass(slots=True)
class ImportReport:
    source: str
    status: str  # done | failed | skipped (already done: same content)
    kind: str  # transaction | batch | ndjson | collection | searchset | resource | unreadable
    loaded: int = 0  # resources written (cumulative over the runs of a resumed file)
    failed: int = 0
    skipped: int = 0  # items an earlier run had done: the whole file when skipped, else where it resumed
    position: int = 0  # lines (NDJSON) or entries done
    errors: list[dict] = field(default_factory=list)  # [{"at": line or entry number, "diagnostics": ...}]
    seconds: float = 0.0


def fingerprint(path: Path) -> str:
    """The sha256 of the whole file (hashing costs far less than loading what it holds)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def _kind_of(path: Path) -> str:
    return "ndjson" if path.suffix.lower() == ".ndjson" else "json"


async def import_file(
    db: Database, path: Path | str, *, progress: Progress | None = None, chunk: int = CHUNK
) -> ImportReport:
    path = Path(path)
    source = str(path)
    began = time.perf_counter()
    digest = await asyncio.to_thread(fingerprint, path)
    row, resume_at = await _begin(db, source, digest)
    if row is None:
        return ImportReport(source, "skipped", _kind_of(path), skipped=resume_at)
    if _kind_of(path) == "ndjson":
        lines = await asyncio.to_thread(_count_lines, path)
        report = await _load_stream(db, row, source, "ndjson", _ndjson(path), lines, progress, chunk)
    else:
        report = await _load_json(db, row, source, path, progress, chunk)
    report.seconds = time.perf_counter() - began
    return report


async def _begin(db: Database, source: str, digest: str) -> tuple[FhirImport | None, int]:
    """The file's import row, made or taken up again (None when the file is done: skipped), and the
    position it resumes at."""
    async with db.sessionmaker() as session:
        row = await repo.by_fingerprint(session, digest)
        if row is not None and row.status == "done":
            return None, row.position
        if row is None:
            row = FhirImport(
                source=source[-1000:],
                fingerprint=digest,
                status="running",
                started_at=clock.now(),
                position=0,
                loaded=0,
                failed=0,
                errors=[],
            )
            repo.add(session, row)
        else:  # a crashed or failed run: taken up where its last committed chunk left it
            row.status, row.source, row.finished_at = "running", source[-1000:], None
        await session.commit()
        return row, row.position


async def _finish(session: AsyncSession, row: FhirImport, report: ImportReport) -> None:
    await repo.finish(
        session,
        row.id,
        status=report.status,
        at=clock.now(),
        position=report.position,
        loaded=report.loaded,
        failed=report.failed,
        errors=report.errors[:MAX_ERRORS],
    )
    audit.record(session, None, "fhir.import", "fhir_import", row.id, patient_id=None)


def _diagnostics(err: FhirError) -> str:
    return _said([i.as_json() for i in err.issues]) or f"HTTP {err.status}"


def _said(issues: list[dict]) -> str:
    """An OperationOutcome's issues in one line, each with the elements it points at."""
    return "; ".join(
        i.get("diagnostics", i.get("code", ""))
        + (f" ({', '.join(i['expression'])})" if i.get("expression") else "")
        for i in issues
    )


# ---- .json: a Bundle or one resource ------------------------------------------------------------------


def _read_json(path: Path) -> object:
    return orjson.loads(path.read_bytes())


async def _load_json(
    db: Database, row: FhirImport, source: str, path: Path, progress: Progress | None, chunk: int
) -> ImportReport:
    try:
        body = await asyncio.to_thread(_read_json, path)
        unreadable = "" if isinstance(body, dict) else "The file holds no FHIR resource (a JSON object)."
    except orjson.JSONDecodeError as exc:
        body, unreadable = None, f"The file is not JSON: {exc}"
    if not isinstance(body, dict):
        report = ImportReport(source, "failed", "unreadable", failed=1)
        report.errors = [{"at": None, "diagnostics": unreadable}]
        async with db.sessionmaker() as session:
            await _finish(session, row, report)
            await session.commit()
        return report
    kind = body.get("type") if body.get("resourceType") == "Bundle" else None
    if kind in ("transaction", "batch"):
        return await _load_bundle(db, row, source, body, kind, progress)
    if kind is not None:  # collection, searchset, ...: their resources, each put by its id
        entries = body.get("entry") if isinstance(body.get("entry"), list) else []
        return await _load_stream(
            db, row, source, str(kind), _entries(entries), len(entries), progress, chunk
        )
    return await _load_stream(db, row, source, "resource", iter([(1, body)]), 1, progress, chunk)


async def _load_bundle(
    db: Database, row: FhirImport, source: str, bundle: dict, kind: str, progress: Progress | None
) -> ImportReport:
    """A transaction or batch, processed as a POST of it to /fhir would be, in one transaction with its
    import row's end."""
    total = len(bundle.get("entry") or [])
    if progress:
        progress(source, 0, total)
    request = FhirRequest(method="POST", path="", body=bundle, headers={"prefer": "return=minimal"})
    async with db.sessionmaker() as session:
        try:
            response = await bundles.process(session, REPOSITORY, request, handle=router.handle)
        except FhirError as err:  # a transaction's failing entry (or a Bundle refused whole)
            await session.rollback()
            report = ImportReport(source, "failed", kind, failed=total or 1)
            report.errors = [{"at": _entry_number(err), "diagnostics": _diagnostics(err)}]
        else:
            report = ImportReport(source, "done", kind, position=total)
            for number, entry in enumerate((response.body or {}).get("entry", []), start=1):
                said = entry.get("response", {})
                if said.get("status", "").startswith(("2", "3")):
                    report.loaded += 1
                    continue
                report.failed += 1
                text = _said(said.get("outcome", {}).get("issue", []))
                report.errors.append({"at": number, "diagnostics": text or said.get("status", "")})
        await _finish(session, row, report)
        await session.commit()
    if progress:
        progress(source, total, total)
    return report


def _entry_number(err: FhirError) -> int | None:
    """The 1-based number of the entry a transaction's error points at ("Bundle.entry[3]..." -> 4)."""
    for issue in err.issues:
        for where in issue.expression:
            head, bracket, rest = where.partition("Bundle.entry[")
            if bracket and rest.split("]", 1)[0].isdigit():
                return int(rest.split("]", 1)[0]) + 1
    return None


def _entries(entries: list) -> Iterator[tuple[int, dict | FhirError]]:
    for number, entry in enumerate(entries, start=1):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        yield number, resource if isinstance(resource, dict) else invalid("The entry holds no resource.")


# ---- a stream of resources: NDJSON, a collection, one resource ----------------------------------------


def _ndjson(path: Path) -> Iterator[tuple[int, dict | FhirError | None]]:
    """(line number, resource or why not) for every line; None for a blank line (nothing to load)."""
    with path.open("rb") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                yield number, None
                continue
            try:
                resource = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                yield number, FhirError(400, [Issue("structure", f"Line {number} is not JSON: {exc}")])
                continue
            if not isinstance(resource, dict):
                resource = FhirError(400, [Issue("structure", f"Line {number} is not a JSON object.")])
            yield number, resource


def _count_lines(path: Path) -> int:
    count, last = 0, b"\n"
    with path.open("rb") as fh:
        while block := fh.read(_BLOCK):
            count += block.count(b"\n")
            last = block[-1:]
    return count + (last != b"\n")  # a last line without its newline


async def _put(session: AsyncSession, resource: dict) -> None:
    """PUT by the resource's id, or a create when it has none; validated as the REST path validates."""
    validation.validate(resource, rtype_from_url=None)
    rid = resource.get("id")
    if rid is not None and not router.FHIR_ID.fullmatch(str(rid)):
        raise invalid(f"{rid!r} is not a valid resource id (1-64 of A-Z a-z 0-9 - .).")
    try:
        async with session.begin_nested():  # a failed line's writes undone, the chunk's others kept
            if rid is None:
                await store.create(session, REPOSITORY, resource)
            else:
                await store.update(session, REPOSITORY, resource["resourceType"], rid, resource)
            await store.write_created(session)  # inside the line's savepoint
    except BaseException:
        store.forget_created(session)
        raise


async def _load_stream(
    db: Database,
    row: FhirImport,
    source: str,
    kind: str,
    items: Iterator[tuple[int, dict | FhirError | None]],
    total: int,
    progress: Progress | None,
    chunk: int,
) -> ImportReport:
    report = ImportReport(source, "running", kind, skipped=row.position, position=row.position)
    if row.position:  # resumed: the counts so far are the committed chunks'
        report.loaded, report.failed, report.errors = row.loaded, row.failed, list(row.errors or [])
    if progress:
        progress(source, report.position, total)
    remaining = itertools.dropwhile(lambda item: item[0] <= row.position, items)
    try:
        while batch := await asyncio.to_thread(list, itertools.islice(remaining, chunk)):
            await _load_chunk(db, row, report, batch)
            if progress:
                progress(source, report.position, total)
    finally:
        close = getattr(items, "close", None)  # the NDJSON file, also when the import stops half-way
        if close is not None:
            await asyncio.to_thread(close)
    report.status = "done"
    async with db.sessionmaker() as session:
        await _finish(session, row, report)
        await session.commit()
    return report


async def _load_chunk(
    db: Database, row: FhirImport, report: ImportReport, batch: list[tuple[int, dict | FhirError | None]]
) -> None:
    """One transaction: the chunk's resources and how far the import got, committed together."""
    async with db.sessionmaker() as session:
        for number, item in batch:
            if item is None:
                continue
            try:
                if isinstance(item, FhirError):
                    raise item
                await _put(session, item)
            except FhirError as err:
                _failed(report, number, _diagnostics(err))
            except IntegrityError:  # lost a race to a concurrent write of the same resource
                _failed(report, number, "Conflicts with a concurrent change.")
            else:
                report.loaded += 1
        report.position = batch[-1][0]
        await repo.record_chunk(
            session,
            row.id,
            position=report.position,
            loaded=report.loaded,
            failed=report.failed,
            errors=report.errors[:MAX_ERRORS],
        )
        await session.commit()


def _failed(report: ImportReport, number: int, diagnostics: str) -> None:
    report.failed += 1
    if len(report.errors) < MAX_ERRORS:
        report.errors.append({"at": number, "diagnostics": diagnostics})


# ---- export, and the figures of the admins' page ------------------------------------------------------


async def export_ndjson(
    db: Database,
    out_dir: Path | str,
    *,
    types: list[str] | None = None,
    progress: Progress | None = None,
    page: int = EXPORT_PAGE,
) -> dict[str, int]:
    """One `<Type>.ndjson` of the current (not deleted) resources of each type (the types asked, else every
    type there is), read a page at a time; the resources written of each type."""
    unknown = sorted(set(types or ()) - params.declared_types())
    if unknown:
        raise ValueError(f"Resource types not served here: {', '.join(unknown)}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    token = write_intent.set(False)  # reads only: never wait for SQLite's write lock
    try:
        async with db.sessionmaker() as session:
            present = {c.type: c.current for c in await repo.counts_by_type(session) if c.current}
        written: dict[str, int] = {}
        for rtype in sorted(set(types) if types else present):
            written[rtype] = await _export_type(db, out, rtype, present.get(rtype, 0), progress, page)
        return written
    finally:
        write_intent.reset(token)


async def _export_type(
    db: Database, out: Path, rtype: str, total: int, progress: Progress | None, page: int
) -> int:
    if not total:
        return 0
    count, after = 0, 0
    target = out / f"{rtype}.ndjson"
    partial = target.with_suffix(".ndjson.part")  # never a half-written file under the final name
    fh = await asyncio.to_thread(partial.open, "wb")
    try:
        if progress:
            progress(rtype, 0, total)
        while True:
            async with db.sessionmaker() as session:
                rows = await repo.current_page(session, rtype, after_pk=after, limit=page)
            if not rows:
                break
            await asyncio.to_thread(fh.write, b"".join(orjson.dumps(content) + b"\n" for _, content in rows))
            count, after = count + len(rows), rows[-1][0]
            if progress:
                progress(rtype, count, max(total, count))
    finally:
        await asyncio.to_thread(fh.close)
    await asyncio.to_thread(partial.replace, target)
    return count


async def import_history(session: AsyncSession, limit: int = 50) -> list[FhirImport]:
    return list(await repo.history(session, limit=limit))


async def counts_by_type(session: AsyncSession) -> list[repo.TypeCount]:
    return await repo.counts_by_type(session)


async def refresh_statistics(db: Database) -> None:
    """After a load: the planner's statistics of the repository's tables (importing_repository.analyze)."""
    await repo.analyze(db.engine)
