"""Identity: accounts, roles, login, tokens, phone verification, throttling."""
