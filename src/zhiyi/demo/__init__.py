"""Deterministic demo data for a fictional hospital group (catalogue and seeder)."""
