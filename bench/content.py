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
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, text
from sqlalchemy.orm import Session

from shared.auth import Principal
from shared.text import search_key
from bench.backends import run_on_backends, timed
from bench.tallies import country
from services.content import progress, reading
from services.content.models import Audience, Base, Document, Read, StudyResult, directory
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


def _id(path):
    return int(path.strip("/").split("/")[-1])


def fill(session, rng):
    """The directory, the documents and their audience, the reads and passes; the totals recounted."""
    provinces, branches = country(BRANCHES)
    grassroots = sorted({path.rsplit("/", 2)[0] + "/" for path in branches})
    organizations = {path for branch in branches for path in _above(branch)}
    _bulk(
        session,
        directory.Organization,
        [{"id": _id(p), "path": p, "level": None, "rollout": "live"} for p in organizations],
    )
    member_paths = [rng.choice(branches) for _ in range(MEMBERS)]
    _bulk(
        session,
        directory.Membership,
        (
            {"member_id": n, "organization_id": _id(p), "organization_path": p, "status": "official", "in_party": True}
            for n, p in enumerate(member_paths, start=2)
        ),
    )
    session.add(directory.Membership(member_id=ADMIN, organization_id=1, organization_path="/1/", status="official"))
    session.add(
        directory.Position(member_id=ADMIN, organization_id=1, role="system_administrator", organization_path="/1/")
    )
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
    _bulk(session, Document, documents)
    _bulk(session, Audience, audiences)
    national = [a["document_id"] for a in audiences if a["organization_id"] == 1]
    addressed = {}
    for a in audiences:
        addressed.setdefault(a["organization_id"], []).append(a["document_id"])
    passes = []

    def receipts():
        """Each member reads about READS / MEMBERS documents, half national, half addressed to their own
        organisations; streamed (10 M rows are never held at once)."""
        per = READS / MEMBERS
        for member_id, path in enumerate(member_paths, start=2):
            mine = [d for organization in _ids(path) for d in addressed.get(organization, ())]
            wanted = int(per) + (rng.random() < per - int(per))
            chosen = {rng.choice(mine if mine and rng.random() < 0.5 else national) for _ in range(wanted)}
            for document_id in chosen:
                yield {"member_id": member_id, "document_id": document_id, "read_at": now}
                if document_id % 5 == 0 and rng.random() < 0.33:
                    passes.append({"member_id": member_id, "document_id": document_id, "attempts": 1,
                                   "best_score": 1.0, "passed": True, "last_attempt_at": now})  # fmt: skip

    _bulk(session, Read, receipts())
    _bulk(session, StudyResult, passes)
    progress.recount(session)
    session.commit()
    return provinces, national


def _above(path):
    parts = path.strip("/").split("/")
    return ["/" + "/".join(parts[: n + 1]) + "/" for n in range(len(parts))]


def _ids(path):
    return [int(part) for part in path.strip("/").split("/")]


def _bulk(session, model, rows):
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == ROWS:
            session.execute(insert(model), batch)
            batch = []
    if batch:
        session.execute(insert(model), batch)


def measure(engine, label):
    Base.metadata.create_all(engine)
    rng = random.Random(1)
    started = time.perf_counter()
    with Session(engine) as session:
        provinces, national = fill(session, rng)
        session.execute(text("ANALYZE"))
        session.commit()
        reads = session.scalar(text("SELECT count(*) FROM document_reads"))
    took = time.perf_counter() - started
    print(f"\n{label}: {MEMBERS:,} members, {DOCUMENTS:,} documents, {reads:,} reads in {took:.0f} s")
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
    return results


def main():
    return run_on_backends(measure, "content")


if __name__ == "__main__":
    sys.exit(main())
