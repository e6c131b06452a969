"""Core: config, database, security, errors, policy, audit, outbox, clock, ids, i18n.

Core knows no domain; domains build on it.
"""
