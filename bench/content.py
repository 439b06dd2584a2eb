"""`python -m bench.content` (part of `make bench`): content's reads at national scale, timed in-process on its domain
functions (as bench/national.py times members'), on SQLite and on PostgreSQL.

A tree of the country's shape (bench/tallies.py: the centre, 34 provinces, `BENCH_BRANCHES` branches two to a
grassroots committee), `BENCH_MEMBERS` members in the party spread over the branches, `BENCH_DOCUMENTS` (20,000)
published documents spread over the levels (2 % national, 8 % provincial, 30 % grassroots, 60 % branch; titles
from a Vietnamese vocabulary) and `BENCH_READS` read receipts (a member reads documents addressed to them; a third of
them pass a quiz). The study totals are filled the way revision 0005 fills them (`progress.recount`). Then, each
`BENCH_SAMPLES` times (200) for a random member / province: a member's document list (first page), their unread
count, a search (`nghi quyet dai hoi`, `chi thi`, …), and a province's study progress for a national document.
p50 and p95 in ms. Targets (issue 11): list p95 < 30 ms, unread p95 < 10 ms, search p95 < 50 ms, study progress p95 <
100 ms. The scale is a parameter: what this machine has time for is measured, the national figures extrapolated
(bench/README.md says which).
"""

import os
import random
import sys
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from shared.auth import Principal
from shared.text import search_key
from bench.backends import BACKENDS, LABELS, timed
from bench.fills import (
    bulk,
    disk_usage,
    fingerprint,
    indexes_after,
    kept_engine,
    load,
    loading,
    mark_filled,
    stamp,
    sync_indexes,
    vacuum,
)
from bench.tallies import country
from services.content import progress, reading
from services.content.models import Audience, Base, Document, Read, StudyResult, directory, document_totals
from tests.support.worlds import document_query

BRANCHES = int(os.environ.get("BENCH_BRANCHES", 100_000))
MEMBERS = int(os.environ.get("BENCH_MEMBERS", 560_000))
DOCUMENTS = int(os.environ.get("BENCH_DOCUMENTS", 20_000))
READS = int(os.environ.get("BENCH_READS", 1_000_000))
ADMIN = 1
WORDS = (
    "Nghị quyết Đại hội Chỉ thị Quy định Hướng dẫn học tập quán triệt tổng kết công tác xây dựng Đảng chỉnh đốn "
    "kiểm tra giám sát chi bộ đảng viên kinh tế xã hội quốc phòng an ninh chuyển đổi số cải cách hành chính"
).split()
SEARCHES = ("nghi quyet dai hoi", "chi thi", "hoc tap quan triet", "chuyen doi so", "kiem tra giam sat chi bo")
ROWS = 20_000
RECOUNT = os.environ.get("BENCH_RECOUNT") == "1"


def _id(path):
    return int(path.strip("/").split("/")[-1])


FILL_VERSION = 3  # raise when the fill makes different rows: a kept fill of another version is refilled


def fill(session, rng):
    """The directory, the documents and their audience, the reads and passes; the totals recounted. Prints each
    stage's time (a national fill takes many minutes)."""
    stage = _stages()
    provinces, branches = country(BRANCHES)
    grassroots = sorted({path.rsplit("/", 2)[0] + "/" for path in branches})
    organizations = {path for branch in branches for path in _above(branch)}
    Organization, Membership = directory.Organization, directory.Membership
    bulk(session, Organization.__table__, ("id", "path", "level", "rollout"),
         ((_id(p), p, None, "live") for p in organizations))  # fmt: skip
    member_paths = [rng.choice(branches) for _ in range(MEMBERS)]
    with indexes_after(session, Membership.__table__):
        bulk(
            session,
            Membership.__table__,
            ("member_id", "organization_id", "organization_path", "status", "in_party", "activated"),
            ((n, _id(p), p, "official", True, False) for n, p in enumerate(member_paths, start=2)),
        )
    session.add(directory.Membership(member_id=ADMIN, organization_id=1, organization_path="/1/", status="official"))
    session.add(
        directory.Position(member_id=ADMIN, organization_id=1, role="system_administrator", organization_path="/1/")
    )
    stage("directory")
    now = datetime.now(UTC)
    audiences, documents = [], []
    for n in range(1, DOCUMENTS + 1):
        share = n / DOCUMENTS
        path = (
            "/1/"
            if share <= 0.02
            else rng.choice(provinces if share <= 0.10 else grassroots if share <= 0.40 else branches)
        )
        title = " ".join(rng.sample(WORDS, 6))
        published = now - timedelta(minutes=rng.randint(0, 60 * 24 * 365))
        documents.append(
            {"id": n, "category": "study" if n % 5 == 0 else "resolution", "title": title, "body": f"<p>{title}</p>",
             "study": n % 5 == 0, "status": "published", "version": 1, "published_at": published,
             "search_text": search_key(f"{title} {title}"), "created_at": published, "updated_at": published}
        )  # fmt: skip
        audiences.append({"organization_id": _id(path), "document_id": n})
    for start in range(0, DOCUMENTS, ROWS):
        session.execute(insert(Document), documents[start : start + ROWS])
        session.execute(insert(Audience), audiences[start : start + ROWS])
    stage("documents")
    national = [a["document_id"] for a in audiences if a["organization_id"] == 1]
    addressed = {}
    for a in audiences:
        addressed.setdefault(a["organization_id"], []).append(a["document_id"])
    at = stamp(session, Read.__table__.c.read_at, now)
    passes = []
    counted = Counter()  # (document, branch path): [read, passed] — the totals, counted as the rows are made
    theirs = {}  # a branch path: the documents addressed to it and the organisations above it

    def receipts():
        """Each member reads about READS / MEMBERS documents, half national, half addressed to their own
        organisations; streamed (10 M rows are never held at once)."""
        per = READS / MEMBERS
        for member_id, path in enumerate(member_paths, start=2):
            mine = theirs.get(path)
            if mine is None:
                mine = theirs[path] = [d for organization in _ids(path) for d in addressed.get(organization, ())]
            wanted = int(per) + (rng.random() < per - int(per))
            chosen = {rng.choice(mine if mine and rng.random() < 0.5 else national) for _ in range(wanted)}
            for document_id in chosen:
                yield (member_id, document_id, at)
                counted[(document_id, path, "read")] += 1
                if document_id % 5 == 0 and rng.random() < 0.33:
                    passes.append((member_id, document_id, 1, 1.0, True, at))
                    counted[(document_id, path, "passed")] += 1

    with indexes_after(session, Read.__table__):
        bulk(session, Read.__table__, ("member_id", "document_id", "read_at"), receipts(), "read receipts")
    with indexes_after(session, StudyResult.__table__):
        columns = ("member_id", "document_id", "attempts", "best_score", "passed", "last_attempt_at")
        bulk(session, StudyResult.__table__, columns, passes, "quiz passes")
    stage("reads and passes")
    if RECOUNT:
        progress.recount(session)
        stage("study totals recounted (progress.recount)")
    else:
        totals(session, counted)
        stage("study totals")


def totals(session, counted):
    """The study totals a recount (`progress.recount`, revision 0005) would make of these rows, written through
    the driver: the recount's tally upserts take hours for 10 M receipts on these shared cores
    (tests: `BENCH_RECOUNT=1` fills with the recount, and the tables come out the same)."""
    directory.recount(session)
    net, chains = defaultdict(lambda: [0, 0]), {}
    for (document_id, path, kind), n in counted.items():
        chain = chains.get(path) or chains.setdefault(path, list(zip(_ids(path), _above(path), strict=True)))
        for organization_id, _ in chain:
            net[(document_id, organization_id)][kind == "passed"] += n
    paths = {organization_id: path for chain in chains.values() for organization_id, path in chain}
    rows = (
        (document_id, organization_id, paths[organization_id], paths[organization_id].count("/") - 1, read, passed)
        for (document_id, organization_id), (read, passed) in net.items()
    )
    columns = ("subject", "organization_id", "organization_path", "depth", "read", "passed")
    with indexes_after(session, document_totals.table):
        bulk(session, document_totals.table, columns, rows, "study totals")


def _stages():
    last = [time.perf_counter()]

    def stage(what):
        now = time.perf_counter()
        print(f"  {what}: {now - last[0]:.0f} s", flush=True)
        last[0] = now

    return stage


def _above(path):
    parts = path.strip("/").split("/")
    return ["/" + "/".join(parts[: n + 1]) + "/" for n in range(len(parts))]


def _ids(path):
    return [int(part) for part in path.strip("/").split("/")]


def measure(engine, label, kept=None):
    if kept:
        print(f"\n{label}: reusing the fill of {kept[0]} ({kept[1]:.0f} s to fill)", flush=True)
        sync_indexes(engine, Base.metadata)
    else:
        print(f"\n{label}: filling {MEMBERS:,} members, {DOCUMENTS:,} documents, ~{READS:,} reads", flush=True)
        Base.metadata.create_all(engine)
        started = time.perf_counter()
        with loading(engine) as session:
            fill(session, random.Random(1))
            mark_filled(session, FINGERPRINT, time.perf_counter() - started)
            session.commit()
        vacuum(engine)
        print(f"  filled in {time.perf_counter() - started:.0f} s ({disk_usage(engine)})", flush=True)
    with Session(engine) as session:
        reads = session.scalar(text("SELECT count(*) FROM document_reads"))
        national = sorted(session.scalars(select(Audience.document_id).where(Audience.organization_id == 1)))
    provinces, _ = country(BRANCHES)
    print(f"{label}: {MEMBERS:,} members, {DOCUMENTS:,} documents, {reads:,} reads; load {load()}", flush=True)
    rng = random.Random(2)
    admin = Principal(member_id=ADMIN, citizen_id="", session_id="bench")

    def member():
        return Principal(member_id=rng.randint(2, MEMBERS + 1), citizen_id="", session_id="bench")

    with Session(engine) as session:
        results = {
            "a member's document list, first page": timed(lambda: reading.listing(session, member(), document_query())),
            "a member's unread count": timed(lambda: reading.unread_count(session, member())),
            "a search": timed(lambda: reading.listing(session, member(), document_query(q=rng.choice(SEARCHES)))),
            "a province's study progress, national document": timed(
                lambda: progress.study_progress(session, admin, _id(rng.choice(provinces)), rng.choice(national))
            ),
        }
        session.rollback()
    for what, (p50, p95) in results.items():
        print(f"  {what:<48} p50 {p50:7.2f} ms   p95 {p95:7.2f} ms")
    print(f"  load after: {load()}")
    return results


FINGERPRINT = fingerprint(
    Base.metadata, FILL_VERSION, branches=BRANCHES, members=MEMBERS, documents=DOCUMENTS, reads=READS
)


def main():
    for backend in BACKENDS:
        with kept_engine(backend, "content", FINGERPRINT) as (engine, kept):
            measure(engine, LABELS[backend], kept)
    return 0


if __name__ == "__main__":
    sys.exit(main())
