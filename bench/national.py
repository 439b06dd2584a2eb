"""National scale: import rate, search, stats and branch lists on 5.6 million members.

    python -m bench.national [--members N] [--backends sqlite,postgresql]

Each backend gets a fresh database, the generated tree, then the generated export
imported through the same code as `POST /imports` and the CLI (check, stage, apply,
counts). Timings of the reads are taken in-process on the domain functions, p95 over
repeated calls with varying inputs.
"""

import argparse
import os
import random
import shutil
import statistics
import tempfile
import time
import warnings

warnings.filterwarnings("ignore", category=DeprecationWarning)

from sqlalchemy import create_engine, select, text  # noqa: E402

from shared import migrations  # noqa: E402
from shared.db import standalone_unit  # noqa: E402
from bench.dataset import build_tree, write_members_csv  # noqa: E402
from services.members import counts, importing, search  # noqa: E402
from services.members.models import Base, Organization  # noqa: E402

PG_SERVER = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
QUERIES = [
    "nguyen van",
    "tran thi h",
    "le van hung",
    "pham thi lan",
    "hoang minh",
    "vu ngoc anh",
    "do van",
    "bui thi thu",
    "dang quang",
    "ngo thanh",
]


def p95(samples):
    return statistics.quantiles(samples, n=20)[18] * 1000


def timed(function, calls):
    samples = []
    for args in calls:
        started = time.perf_counter()
        function(*args)
        samples.append(time.perf_counter() - started)
    return p95(samples)


def prepare_database(backend, workdir):
    os.environ.pop("MEMBERS_DATABASE_URL", None)
    os.environ["DATA_DIR"] = workdir
    admin = None
    if backend == "postgresql":
        name = f"sotay_bench_{int(time.time())}"
        admin = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        os.environ["MEMBERS_DATABASE_URL"] = PG_SERVER.rsplit("/", 1)[0] + "/" + name
        return admin, name
    return admin, None


def drop_database(admin, name):
    if admin is not None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def run_backend(backend, members, csv_path, workdir, branch_codes_cache):
    from nameko import config

    admin, name = prepare_database(backend, workdir)
    try:
        with config.patch({"DATA_DIR": workdir, "DATABASE_URL": os.environ.get("MEMBERS_DATABASE_URL")}):
            migrations.upgrade("members")
            uow, database = standalone_unit(Base.metadata, "members", "bench")
            with uow.transaction() as session:
                branch_codes = build_tree(session)
            branch_codes_cache.update(branch_codes)
            if not os.path.exists(csv_path):
                started = time.perf_counter()
                write_members_csv(csv_path, branch_codes, members)
                print(f"  generated {members:,} members in {time.perf_counter() - started:.0f} s", flush=True)
            with open(csv_path, "rb") as handle:
                content = handle.read()
            job = importing.new_job(content, False)
            started = time.perf_counter()
            with uow.transaction() as session:
                session.add(job)
                importing.run(session, job, content, csv_path)
            seconds = time.perf_counter() - started
            result = {
                "backend": backend,
                "members": job.accepted,
                "rejected": job.rejected,
                "import_s": seconds,
                "import_rate": job.accepted / seconds,
            }
            print(
                f"  {backend}: imported {job.accepted:,} in {seconds:.0f} s → {result['import_rate']:,.0f} rows/s",
                flush=True,
            )
            result.update(measure_reads(uow.session))
            uow.close()
            database.engine.dispose()
            return result
    finally:
        drop_database(admin, name)


def measure_reads(session, repeats=200):
    rng = random.Random(7)
    provinces = session.scalars(select(Organization).where(Organization.level == "provincial")).all()
    branches = session.scalars(
        select(Organization).where(Organization.level == "branch").order_by(Organization.id).limit(5000)
    ).all()
    search_calls = [(session, rng.choice(provinces), rng.choice(QUERIES)) for _ in range(repeats)]
    return {
        "search_province_p95_ms": timed(lambda s, org, q: search.find(s, org, q=q), search_calls),
        "stats_province_p95_ms": timed(
            lambda s, org: counts.stats(s, org), [(session, rng.choice(provinces)) for _ in range(repeats)]
        ),
        "stats_country_p95_ms": timed(lambda s: counts.stats(s, s.get(Organization, 1)), [(session,)] * repeats),
        "branch_list_p95_ms": timed(
            lambda s, org: search.find(s, org, branch_only=True),
            [(session, rng.choice(branches)) for _ in range(repeats)],
        ),
    }


TARGETS = {
    "import_rate": ("≥", 25_000),
    "search_province_p95_ms": ("<", 50),
    "stats_province_p95_ms": ("<", 100),
    "stats_country_p95_ms": ("<", 100),
    "branch_list_p95_ms": ("<", 20),
}


def report(results):
    print(f"\nnational scale — {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} cores")
    print(f"{'figure':26}" + "".join(f"{r['backend']:>14}" for r in results) + "   target")
    for key, (sign, target) in TARGETS.items():
        cells = "".join(f"{r[key]:>14,.1f}" for r in results)
        print(f"{key:26}{cells}   {sign} {target:,}")


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=int(os.environ.get("BENCH_MEMBERS", 5_600_000)))
    parser.add_argument("--backends", default=os.environ.get("BENCH_BACKENDS", "sqlite,postgresql"))
    args = parser.parse_args(argv)
    workdir = tempfile.mkdtemp(prefix="sotay-national-")
    csv_path = os.path.join(workdir, "members.csv")
    results, cache = [], {}
    for backend in args.backends.split(","):
        print(f"{backend}: {args.members:,} members", flush=True)
        results.append(run_backend(backend, args.members, csv_path, workdir, cache))
    report(results)
    shutil.rmtree(workdir, ignore_errors=True)  # gigabytes: never leave them behind


if __name__ == "__main__":
    main()
