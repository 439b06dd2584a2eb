"""A national publication: one document for the whole country, read from its audience in every member's inbox,
pushed to every device, while one-time codes keep flowing. `python -m bench.publication [--members N]`.

notify runs as its own process (as `make run` starts it) on a throw-away vhost; its projection of members (the
whole country in pilot, every member with one device) and 2,000 earlier publications over the levels are written
directly; `content.document_published` for the centre is published the way content's outbox publishes it; a
one-time code is requested over RPC every 100 ms until every push is handed to the channel (`push.jsonl`).
"""

import argparse
import contextlib
import os
import statistics
import time
import warnings

warnings.filterwarnings("ignore", category=DeprecationWarning)

import eventlet  # noqa: E402

eventlet.monkey_patch()

from sqlalchemy import delete, func, insert, select  # noqa: E402

from shared.db import utcnow  # noqa: E402
from shared.events import envelope  # noqa: E402
from bench.fanout import codes_until, notify_alone, percentile, publish  # noqa: E402

PROVINCES, GRASSROOTS, BRANCHES = 34, 340, 3_400
EARLIER = 2_000  # publications already in the inboxes, spread over the four levels
HANDING_OVER = 60  # s of codes measured after every push is queued, with --until queued


def branch_path(b):
    """The b-th branch's path: /1/<province>/<grassroots>/<branch>/ (ids unique across levels)."""
    grassroots = b % GRASSROOTS
    return f"/1/{100 + grassroots % PROVINCES}/{1_000 + grassroots}/{10_000 + b}/"


def audience_of(n):
    path = branch_path(n * 7 % BRANCHES).strip("/").split("/")
    depth = 1 + n % 4  # the centre, a province, a grassroots committee, a branch
    return "/" + "/".join(path[:depth]) + "/"


def fill(members):
    def run(unit):
        from services.notify import publications
        from services.notify.models import Device, PushFanOut, Recipient, directory

        with unit.transaction() as session:
            session.add(directory.Organization(id=1, path="/1/", level="central", rollout="pilot"))
            for start in range(1, members + 1, 20_000):
                block = range(start, min(start + 20_000, members + 1))
                session.execute(
                    insert(Recipient),
                    [
                        {
                            "member_id": n,
                            "full_name": f"Đảng viên {n}",
                            "organization_id": 10_000 + n % BRANCHES,
                            "organization_path": branch_path(n % BRANCHES),
                            "status": "official",
                            "phone": f"+8491{n:07d}",
                            "language": "en" if n % 20 == 0 else "vi",
                            "activated": True,
                            "in_party": True,
                        }
                        for n in block
                    ],
                )
                session.execute(
                    insert(Device), [{"member_id": n, "platform": "android", "token": f"fcm-{n:09d}"} for n in block]
                )
            for n in range(1, EARLIER + 1):
                publications.published(session, envelope("content.document_published", document(n, audience_of(n))))
            session.execute(delete(PushFanOut))  # pushed long ago

    return run


def document(n, path):
    return {
        "document_id": n,
        "version": 1,
        "category": "study" if n % 5 == 0 else "resolution",
        "study": n % 5 == 0,
        "title": f"Văn bản số {n}",
        "summary": "Quán triệt, triển khai thực hiện",
        "audience": [{"organization_id": int(path.rstrip("/").rsplit("/", 1)[1]), "organization_path": path}],
        "published_at": utcnow().isoformat(),
    }


def inbox_reads(unit, samples, members):
    """First page of sampled members' inboxes (messages and publications merged), in ms."""
    from services.notify import inbox

    timings = []
    for k in range(samples):
        member_id = 1 + (k * 7919) % members
        with unit.reading() as session:
            started = time.perf_counter()
            inbox.inbox(session, member_id, limit=20)
            timings.append((time.perf_counter() - started) * 1000)
    return timings


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=int(os.environ.get("BENCH_PUBLICATION", 100_000)))
    parser.add_argument(
        "--until",
        choices=("sent", "queued"),
        default="sent",
        help="stop when every push is handed to the channel (sent), or a minute after they are all queued "
        "(queued: at 5.6 M the hand-over is the file sink's ~2,000/s, most of an hour, and counting sent rows every "
        "100 ms would load the database being measured)",
    )
    parser.add_argument(
        "--for",
        dest="seconds",
        type=float,
        help="stop this many seconds after the publication, the pushes queued so far counted (a national fan-out "
        "on a loaded machine outlasts a session)",
    )
    parser.add_argument(
        "--backend",
        choices=("sqlite", "postgresql"),
        default=os.environ.get("BENCH_PUBLICATION_BACKEND", "sqlite"),
        help="notify's database: a SQLite file (the embedded default) or a PostgreSQL database of its own, made and "
        "dropped on BENCH_POSTGRES_URL",
    )
    args = parser.parse_args(argv)
    with contextlib.ExitStack() as stack:
        if args.backend == "postgresql":
            from bench.backends import PG_SERVER
            from tests.support.postgres import scratch_database

            os.environ["NOTIFY_DATABASE_URL"] = stack.enter_context(
                scratch_database("sotay_bench_publication", PG_SERVER)
            )
        measure(args)


def measure(args):
    from services.notify import inbox
    from services.notify.models import Delivery, PushFanOut

    national = EARLIER + 1
    sampled = args.members // 2 + 1
    with notify_alone("sotay_publication", fill(args.members)) as (uri, unit):
        before = inbox_reads(unit, 200, args.members)
        started = time.perf_counter()
        publish(uri, "content.document_published", document(national, "/1/"))
        marks = {}

        def progress():
            now = time.perf_counter() - started
            with unit.reading() as session:
                if (
                    "visible" not in marks
                    and inbox.inbox(session, sampled, limit=1)["items"][0]["document_id"] == national
                ):
                    marks["visible"] = now
                    print(f"in a sampled member's inbox after {now * 1000:.0f} ms", flush=True)
                if "queued" not in marks and session.scalar(select(PushFanOut.status)) == "done":
                    marks["queued"] = now
                if "queued" in marks and args.until == "sent" and handed_over(session) >= args.members:
                    marks["sent"] = now
            if args.seconds is not None:
                return now >= args.seconds
            if args.until == "queued":  # and a minute of codes while the sender hands pushes over
                return "queued" in marks and now - marks["queued"] >= HANDING_OVER
            return "sent" in marks

        def handed_over(session):
            return session.scalar(
                select(func.count()).select_from(Delivery).where(Delivery.status == "sent", Delivery.priority == 2)
            )

        latencies = codes_until(uri, progress, started, limit=max(900, args.members / 2_000))
        with unit.reading() as session:
            so_far = handed_over(session), time.perf_counter() - started
            queued = session.scalar(select(PushFanOut.queued))
        after = inbox_reads(unit, 200, args.members)
    elapsed = marks.get("queued", so_far[1])
    rate = (args.members if "queued" in marks else queued) / elapsed
    print(
        f"\nnational publication — {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} cores, "
        f"notify on {args.backend}"
    )
    print(
        f"{args.members:,} members, each with a device; {EARLIER:,} earlier publications. In a sampled member's "
        f"inbox after {marks['visible'] * 1000:.0f} ms — and so in every member's (one row; target < 1 s, < 60 s)"
    )
    if "sent" in marks:
        handed = f"all handed to the channel after {marks['sent']:.1f} s"
    else:
        handed = f"{so_far[0]:,} handed to the channel after {so_far[1]:.1f} s ({so_far[0] / so_far[1]:,.0f}/s)"
    done = f"pushes queued in {elapsed:.1f} s" if "queued" in marks else f"{queued:,} pushes queued in {elapsed:.1f} s"
    print(f"{done} ({rate:,.0f} members/s: 5.6 M would take {5_600_000 / rate / 60:.0f} min), {handed}")
    print(
        f"one-time codes meanwhile: {len(latencies)} sent, p50 {statistics.median(latencies) * 1000:.0f} ms, "
        f"p99 {percentile(latencies, 99) * 1000:.0f} ms (target p99 < 2 s)"
    )
    print(
        f"inbox, first page of 20: p95 {percentile(before, 95):.1f} ms before, "
        f"{percentile(after, 95):.1f} ms after (200 members each)"
    )


if __name__ == "__main__":
    main()
