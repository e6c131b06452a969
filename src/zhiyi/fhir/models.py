"""The repository's tables: one row per resource, one per version, and the current version's search index.

A resource's row (`fhir_resource`) names its current version; every version's content is kept in
`fhir_version` (history, vread), so ingest writes each resource's JSON once. The index tables hold the
values the declared search parameters (params.py) extract from the current version, one table per
parameter type; each row repeats the resource's type so an index serves one type's searches.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from zhiyi.core import ids
from zhiyi.core.db import Base

# an integer primary key that is SQLite's rowid there (BIGSERIAL on PostgreSQL)
PK = BigInteger().with_variant(Integer(), "sqlite")
CONTENT = JSON().with_variant(JSONB(), "postgresql")
TEXT = 512  # index values longer than this are cut (a search value longer than that matches by prefix)
# compared and sorted by code point on both backends (PostgreSQL's "C" collation: a prefix LIKE uses
# the index)
TXT = String(TEXT).with_variant(String(TEXT, collation="C"), "postgresql")


class FhirResource(Base):
    __tablename__ = "fhir_resource"
    __table_args__ = (UniqueConstraint("type", "id"),)

    pk: Mapped[int] = mapped_column(PK, primary_key=True, autoincrement=True)
    type: Mapped[str] = mapped_column(String(64))
    id: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[dt.datetime]
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    # the Zhiyi domain whose rows this resource shows (owned.py); None for data from other systems
    owner: Mapped[str | None] = mapped_column(String(32))


class FhirVersion(Base):
    __tablename__ = "fhir_version"
    __table_args__ = (
        Index("ix_fhir_version_updated", "updated_at"),
        Index("ix_fhir_version_type_updated", "type", "updated_at"),
    )

    res_pk: Mapped[int] = mapped_column(
        PK, ForeignKey("fhir_resource.pk", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    type: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime]
    method: Mapped[str] = mapped_column(String(8))
    content: Mapped[dict | None] = mapped_column(CONTENT)  # None: the deletion


class _IndexRow:
    """What every index row has: its resource (the first column of its key (res_pk, n), by which a
    re-index deletes), its number among that resource's rows, the resource's type and the parameter."""

    @declared_attr
    def res_pk(cls) -> Mapped[int]:
        return mapped_column(PK, ForeignKey("fhir_resource.pk", ondelete="CASCADE"), primary_key=True)

    n: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    type: Mapped[str] = mapped_column(String(64))
    param: Mapped[str] = mapped_column(String(64))


class IxString(_IndexRow, Base):
    __tablename__ = "fhir_ix_string"
    __table_args__ = (Index("ix_fhir_ix_string_value", "type", "param", "folded"),)
    folded: Mapped[str] = mapped_column(TXT)
    exact: Mapped[str] = mapped_column(TXT)


# The two indexes searches read most end in res_pk: a search's resources come from the index alone
# (PostgreSQL's index-only scan, once VACUUM has marked the pages), not from a heap row each, which at
# 10,000 patients was most of the time of a code shared by thousands (docs/fhir.md).
class IxToken(_IndexRow, Base):
    __tablename__ = "fhir_ix_token"
    __table_args__ = (Index("ix_fhir_ix_token_code", "type", "param", "code", "system", "res_pk"),)
    system: Mapped[str | None] = mapped_column(TXT)
    code: Mapped[str | None] = mapped_column(TXT)
    text: Mapped[str | None] = mapped_column(TXT)


class IxDate(_IndexRow, Base):
    __tablename__ = "fhir_ix_date"
    __table_args__ = (Index("ix_fhir_ix_date_range", "type", "param", "low", "high"),)
    low: Mapped[int] = mapped_column(BigInteger)  # microseconds since 1970 UTC, inclusive
    high: Mapped[int] = mapped_column(BigInteger)  # inclusive


class IxReference(_IndexRow, Base):
    __tablename__ = "fhir_ix_reference"
    __table_args__ = (
        Index("ix_fhir_ix_reference_target", "target_id", "target_type", "param", "type", "res_pk"),
    )
    target_type: Mapped[str | None] = mapped_column(String(64))
    target_id: Mapped[str | None] = mapped_column(String(64))
    url: Mapped[str | None] = mapped_column(TXT)


class IxQuantity(_IndexRow, Base):
    __tablename__ = "fhir_ix_quantity"
    __table_args__ = (Index("ix_fhir_ix_quantity_value", "type", "param", "value"),)
    value: Mapped[Decimal] = mapped_column(Numeric())
    system: Mapped[str | None] = mapped_column(TXT)
    code: Mapped[str | None] = mapped_column(TXT)
    unit: Mapped[str | None] = mapped_column(TXT)


class IxUri(_IndexRow, Base):
    __tablename__ = "fhir_ix_uri"
    __table_args__ = (Index("ix_fhir_ix_uri_value", "type", "param", "uri"),)
    uri: Mapped[str] = mapped_column(TXT)


class IxNumber(_IndexRow, Base):
    __tablename__ = "fhir_ix_number"
    __table_args__ = (Index("ix_fhir_ix_number_value", "type", "param", "value"),)
    value: Mapped[Decimal] = mapped_column(Numeric())


class IxComposite(_IndexRow, Base):
    """A composite parameter's two parts as found on one element (composites.py)."""

    __tablename__ = "fhir_ix_composite"
    __table_args__ = (Index("ix_fhir_ix_composite_code", "type", "param", "code", "system"),)
    system: Mapped[str | None] = mapped_column(TXT)
    code: Mapped[str | None] = mapped_column(TXT)
    v_system: Mapped[str | None] = mapped_column(TXT)
    v_code: Mapped[str | None] = mapped_column(TXT)
    v_number: Mapped[Decimal | None] = mapped_column(Numeric())
    v_unit: Mapped[str | None] = mapped_column(TXT)
    v_low: Mapped[int | None] = mapped_column(BigInteger)
    v_high: Mapped[int | None] = mapped_column(BigInteger)
    v_text: Mapped[str | None] = mapped_column(TXT)


class FhirImport(Base):
    """One file loaded by `zhiyi fhir import`: where it got to (a re-run resumes there) and what failed."""

    __tablename__ = "fhir_import"
    __table_args__ = (Index("ix_fhir_import_started", "started_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=ids.new_id)
    source: Mapped[str] = mapped_column(String(1000))  # the file's path as given
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)  # its size, time and first bytes
    status: Mapped[str] = mapped_column(String(16))  # running | done | failed
    started_at: Mapped[dt.datetime]
    finished_at: Mapped[dt.datetime | None]
    position: Mapped[int] = mapped_column(Integer, default=0)  # lines (NDJSON) or entries done
    loaded: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[list | None] = mapped_column(JSON)  # the first failures: [{"at": n, "diagnostics": ...}]
