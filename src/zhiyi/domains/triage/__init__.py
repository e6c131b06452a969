"""Smart triage: which department (or the emergency) for a complaint, and a person at the service desk
when the machine is unsure."""
