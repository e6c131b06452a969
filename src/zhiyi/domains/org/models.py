"""Tables of the organisation domain."""

from __future__ import annotations

import uuid

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from zhiyi.core.db import Base, IdMixin
from zhiyi.domains.org.schemas import Title  # noqa: F401  (re-exported: the column's values)


class Campus(IdMixin, Base):
    __tablename__ = "campus"
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    address_zh: Mapped[str] = mapped_column(String(200), default="")
    address_en: Mapped[str] = mapped_column(String(200), default="")
    is_main: Mapped[bool] = mapped_column(default=False)


class Building(IdMixin, Base):
    __tablename__ = "building"
    __table_args__ = (UniqueConstraint("campus_id", "code"),)
    campus_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("campus.id"), index=True)
    code: Mapped[str] = mapped_column(String(20))
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))


class Floor(IdMixin, Base):
    __tablename__ = "floor"
    __table_args__ = (UniqueConstraint("building_id", "level"),)
    building_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("building.id"), index=True)
    level: Mapped[int]  # negative for basements
    name_zh: Mapped[str] = mapped_column(String(50))
    name_en: Mapped[str] = mapped_column(String(50))


class Department(IdMixin, Base):
    """The group-wide department catalogue, a hierarchy with stable codes."""

    __tablename__ = "department"
    code: Mapped[str] = mapped_column(String(40), unique=True)
    parent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("department.id"), index=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    is_clinical: Mapped[bool] = mapped_column(default=True)


class DepartmentCampus(Base):
    """Where a department has its clinic at a campus."""

    __tablename__ = "department_campus"
    department_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("department.id"), primary_key=True)
    campus_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("campus.id"), primary_key=True)
    floor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("floor.id"))


class Room(IdMixin, Base):
    __tablename__ = "room"
    __table_args__ = (UniqueConstraint("campus_id", "code"),)
    campus_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("campus.id"), index=True)
    floor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("floor.id"))
    department_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("department.id"))
    code: Mapped[str] = mapped_column(String(20))
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20), default="consulting")


class Practitioner(IdMixin, Base):
    __tablename__ = "practitioner"
    code: Mapped[str] = mapped_column(String(20), unique=True)  # staff number
    name_zh: Mapped[str] = mapped_column(String(50))
    name_en: Mapped[str] = mapped_column(String(100))
    sex: Mapped[str] = mapped_column(String(1))
    title: Mapped[str] = mapped_column(String(20))
    department_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("department.id"), index=True)
    specialties: Mapped[list[str]] = mapped_column(JSON, default=list)
    profession: Mapped[str] = mapped_column(String(20), default="doctor")  # doctor | nurse | pharmacist
    active: Mapped[bool] = mapped_column(default=True)


class PractitionerCampus(Base):
    __tablename__ = "practitioner_campus"
    practitioner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("practitioner.id"), primary_key=True)
    campus_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("campus.id"), primary_key=True)
