"""HTTP plumbing shared by the api and web edges: transactions, actors, errors, middleware."""
