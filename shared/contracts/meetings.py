"""meetings: the contract (its events, request and response schemas, errors and vocabulary; data only)."""
