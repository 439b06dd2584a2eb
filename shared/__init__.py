"""Sổ tay's own library: what every service needs and nothing service-specific.

Nothing here imports a service (checked by import-linter in `make test`).
"""
