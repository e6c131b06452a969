"""Patients: registry, resident ID rules, one-code QR identity, family proxy."""
