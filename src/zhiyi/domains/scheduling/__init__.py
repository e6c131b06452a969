"""Scheduling: clinic timetables, sessions and slots, bookings, idempotency, (later) waitlist and queues."""
