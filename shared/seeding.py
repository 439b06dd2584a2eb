"""Running a service's demo seed (embedded default only, never in production)."""

from shared import config
from shared.db import standalone_unit


def run(service, metadata, seed):
    """`seed(uow)` returns True when it wrote demo data, False when data was already there."""
    config.load(service)
    if config.environment() == "production":
        print("Dữ liệu mẫu không dùng cho môi trường production. / Demo data is never seeded in production.")
        return 1
    uow, database = standalone_unit(metadata, service, f"{service}.seed")
    try:
        with uow.transaction():
            created = seed(uow)
    finally:
        uow.close()
        database.engine.dispose()
    print(f"{service}: demo data seeded" if created else f"{service}: data present, demo seed skipped")
    return 0
