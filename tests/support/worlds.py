"""Small worlds for domain tests: a service's own tables in a fresh SQLite file (no broker, no migrations, no
demo data), and factories that fill them through the service's own domain functions, so each test states
the organisations, members and recipients it needs."""

import itertools
from datetime import date

from sqlalchemy import select

from shared.auth import Principal
from shared.db import Database, UnitOfWork, make_engine
from shared.events import envelope
from services.content import (
    audience as content_audience,
    documents as content_documents,
    progress as content_progress,
    reading as content_reading,
)
from services.members import domain as members_domain
from services.members.models import AuditEntry
from services.notify import domain as notify_domain


def unit_of_work(metadata, path):
    """A unit of work over a new SQLite database at `path` holding `metadata`'s tables."""
    database = Database(metadata)
    database.use_engine(make_engine(f"sqlite:///{path}"))
    metadata.create_all(database.engine)
    return UnitOfWork(database, "test", {"correlation_id": "test-correlation"})


def published(uow, event_type):
    """Payloads of `event_type` in the outbox, oldest first (what other services will hear)."""
    outbox = uow.provider.outbox
    rows = uow.session.execute(
        select(outbox.c.payload).where(outbox.c.type == event_type).order_by(outbox.c.seq)
    ).scalars()
    return list(rows)


class World:
    """One service's database and its unit of work; numbers that keep what factories make unique."""

    def __init__(self, uow):
        self.uow = uow
        self._numbers = itertools.count(1)

    @property
    def session(self):
        return self.uow.session


class MembersWorld(World):
    """members' tables and a few factories: organisations, members, positions."""

    domain = members_domain

    def organization(self, level, parent=None, rollout="disabled"):
        n = next(self._numbers)
        with self.uow.transaction() as session:
            return self.domain.create_organization(
                session, f"T{n:04d}", f"Tổ chức thử {n}", level, parent, rollout=rollout
            )

    def chain(self):
        """centre → province → grassroots → branch: the four levels a branch sits under."""
        centre = self.organization("central")
        province = self.organization("provincial", centre)
        grassroots = self.organization("grassroots", province)
        return centre, province, grassroots, self.organization("branch", grassroots)

    def member(self, organization, *positions, status="official", **fields):
        """A member of `organization` holding `positions` ((role, organisation) pairs)."""
        n = next(self._numbers)
        data = {
            "citizen_id": f"0019900{n:05d}",
            "full_name": f"Đảng viên Thử {n}",
            "gender": "female",
            "date_of_birth": date(1980, 1, 1 + n % 28),
            "status": status,
            "organization_id": organization.id,
            "phone": f"+84950{n:06d}",
            "party_card_number": f"99{n:08d}",
            "admission_date": date(2005, 5, 19),
            "official_date": date(2006, 5, 19) if status != "probationary" else None,
            **fields,
        }
        with self.uow.transaction():
            member = self.domain.add_member(self.uow, data)
            for role, where in positions:
                self.domain.record_position(self.uow, member, where, role)
        self.session.refresh(member)
        return member

    def actor(self, member):
        return self.domain.load_actor(self.session, member.id)

    def reload(self, row):
        """`row` as the database holds it now (after a rollback, or a bulk UPDATE)."""
        self.session.expire_all()
        return self.session.get(type(row), row.id)

    def audit(self, member):
        return self.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.subject_type == "member", AuditEntry.subject_id == member.id)
            .order_by(AuditEntry.id)
        ).all()


class NotifyWorld(World):
    """notify's tables: its projection of members (its directory: recipients, committees' rollout), devices."""

    domain = notify_domain

    def recipient(self, path="/1/2/3/4/", status="official", activated=True, language=None, **fields):
        """A member as members' events describe them (phone and e-mail unless told otherwise); returns its id."""
        n = next(self._numbers)
        snapshot = {
            "member_id": n,
            "citizen_id": f"0019900{n:05d}",
            "full_name": f"Đảng viên Thử {n}",
            "status": status,
            # the organisation is the path's last: the directory takes one id at another path for a move
            "organization_id": int(path.rstrip("/").rsplit("/", 1)[1]),
            "organization_path": path,
            "phone": f"+84950{n:06d}",
            "email": f"member{n}@example.vn",
            "activated": activated,
            **fields,
        }
        with self.uow.transaction():
            self.domain.project_member(self.uow.session, snapshot)
            if language:
                self.domain.set_preferences(self.uow, n, [], language=language)
        return n

    def rollout(self, path, state):
        """members.org_rollout_changed for the committee at `path`, as notify's handler takes it (going live
        invites those below who have not signed in)."""
        organization_id = int(path.rstrip("/").rsplit("/", 1)[1])
        event = envelope(
            "members.org_rollout_changed",
            {"organization_id": organization_id, "organization_path": path, "state": state},
        )
        with self.uow.transaction() as session:
            self.domain.rollout_changed(session, event)

    def go_live(self, path):
        self.rollout(path, "live")

    def device(self, member_id, platform="android", token=None):
        with self.uow.transaction():
            return self.domain.register_device(self.uow, member_id, platform, token or f"token-{next(self._numbers)}")


# content's worlds: a centre, a province, a grassroots committee with two branches, a branch elsewhere
CENTRE, PROVINCE, GRASSROOTS, BRANCH, OTHER_BRANCH = "/1/", "/1/2/", "/1/2/3/", "/1/2/3/4/", "/1/2/3/5/"
OTHER_PROVINCE_BRANCH = "/1/6/7/8/"


class ContentWorld:
    """content's tables: members and officers as members' events describe them, documents written through its domain."""

    def __init__(self, uow):
        self.uow = uow
        self.numbers = iter(range(100, 10**6))

    def member(self, path=BRANCH, status="official"):
        """A member as members' snapshot describes them; returns their principal."""
        n = next(self.numbers)
        snapshot = {
            "member_id": n,
            "status": status,
            "organization_id": int(path.rstrip("/").rsplit("/", 1)[1]),
            "organization_path": path,
        }
        with self.uow.transaction() as session:
            content_progress.project_member(session, snapshot)
        return Principal(member_id=n, citizen_id=f"0019900{n:05d}", session_id="s")

    def move(self, principal, path, status="official"):
        snapshot = {
            "member_id": principal.member_id,
            "status": status,
            "organization_id": int(path.rstrip("/").rsplit("/", 1)[1]),
            "organization_path": path,
        }
        with self.uow.transaction() as session:
            return content_progress.project_member(session, snapshot)  # the member's id when their documents changed

    def officer(self, path, role="secretary", lives_in=None):
        principal = self.member(lives_in or path)
        payload = {
            "member_id": principal.member_id,
            "organization_id": int(path.rstrip("/").rsplit("/", 1)[1]),
            "organization_path": path,
            "role": role,
            "action": "assigned",
        }
        with self.uow.transaction() as session:
            content_audience.position_changed(session, envelope("members.position_changed", payload))
        return principal

    def write(self, author, *paths, **fields):
        data = {
            "category": "resolution",
            "title": "Nghị quyết Đại hội",
            "summary": None,
            "body": "Toàn văn **nghị quyết**.",
            "audience": [int(p.rstrip("/").rsplit("/", 1)[1]) for p in paths or (BRANCH,)],
            "publish_at": None,
            "study": False,
            **fields,
        }
        with self.uow.transaction():
            return content_documents.create(self.uow, author, data).id

    def publish(self, author, *paths, **fields):
        document_id = self.write(author, *paths, **fields)
        with self.uow.transaction():
            content_documents.publish(self.uow, author, document_id)
        return document_id

    def titles(self, reader, **query):
        page = content_reading.listing(self.uow.session, reader, document_query(**query))
        return [item["title"] for item in page["items"]]


def document_query(**query):
    """GET /documents's query as the service loads it, with these values."""
    return {
        "category": None,
        "q": None,
        "unread": None,
        "bookmarked": None,
        "status": "published",
        "cursor": None,
        "limit": 20,
        **query,
    }
