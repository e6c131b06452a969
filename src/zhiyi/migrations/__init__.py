"""Alembic migrations (kept inside the package so `zhiyi migrate` works when installed)."""
