"""A service's own copy of the party's directory: organisations (path, level, rollout), members' memberships and
positions, fed by members' events and its bulk re-read. One implementation; each service its own tables in its own
database, declared on its own models:

    directory = Directory(Base, keep=("full_name", "phone"), language=Column(String(2), default="vi"))

`keep` names the personal fields of members' snapshot the service needs and stores (no more: least privilege);
further keyword arguments are columns of the service's own on the membership row. The effects for `db.once` are
here once, so a service subscribes with a line each:

    @subscribe("members", "members.position_changed")
    def on_position_changed(self, envelope):
        self.db.once(envelope, directory.position_changed)

What a principal may act on is `directory.scope(session, member_id).manages(path)`; what a committee has rolled out
is `directory.rolled_out(session, path, states)`.

`Directory(Base, totals=True)` also keeps how many members (in the party) and official members each organisation's
subtree holds (`directory_totals`, shared/tallies.py), kept with every change above, so a report reads them
(`members_in`, `children`) instead of counting members; `directory.tally(…)` makes a service's own running totals
that follow the directory's organisation moves.
"""

from collections import Counter
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Boolean, Column, Date, DateTime, Index, Integer, String, delete, func, select, update

from shared.contracts.common import IN_PARTY
from shared.contracts.members import ADMIN_ROLE, LEVELS, OFFICER_ROLES
from shared.db import utcnow
from shared.tallies import Tally
from shared.tree import ancestor_ids, ancestor_paths, in_subtree, subtree_bounds

PERSONAL = {  # what a snapshot may bring, for a service that keeps it
    "citizen_id": lambda: Column(String(12), nullable=False, unique=True),
    "full_name": lambda: Column(String(255), nullable=False),
    "date_of_birth": lambda: Column(Date),
    "phone": lambda: Column(String(16)),
    "email": lambda: Column(String(255)),
}


def level_of(path):
    """An organisation's level is its depth: centre → province → grassroots → branch → party group."""
    depth = len(ancestor_ids(path))
    return LEVELS[depth - 1] if 0 < depth <= len(LEVELS) else None


@dataclass(frozen=True)
class Scope:
    """What a member may act on by their positions: a system administrator everything, an officer (secretary,
    deputy, committee member) the subtrees of their positions' organisations. Someone who left the party holds no
    authority, whatever positions are still on record."""

    member_id: int
    administrator: bool
    paths: tuple

    def manages(self, path):
        return self.administrator or any(in_subtree(path, root) for root in self.paths)


@dataclass
class Change:
    """A projected snapshot: the membership row as it is now, and its columns as they were (None: a new member)."""

    row: object
    before: dict | None


def counted(row):
    """What a membership row counts for in the directory's totals: nothing once the member left the party."""
    if row is None or not row["in_party"]:
        return {}
    return {"members": 1, "official": int(row["status"] == "official")}


class Directory:
    def __init__(self, base, keep=(), totals=False, **columns):
        unknown = set(keep) - set(PERSONAL)
        if unknown:
            raise ValueError(f"a member snapshot carries no {sorted(unknown)}")
        self.keep = tuple(keep)
        self.base = base
        self.tallies = []  # running totals that follow the organisations' moves
        self.totals = self.tally("directory_totals", counts=("members", "official")) if totals else None
        self.Organization = type(
            "DirectoryOrganization",
            (base,),
            {
                "__tablename__": "directory_organizations",
                "__doc__": "Organisations as members' events name them; `rollout` is the organisation's own state.",
                "id": Column(Integer, primary_key=True, autoincrement=False),
                "path": Column(String(255), nullable=False, index=True),
                "level": Column(String(16)),
                "rollout": Column(String(16), nullable=False, default="disabled"),
            },
        )
        self.Membership = type(
            "DirectoryMember",
            (base,),
            {
                "__tablename__": "directory_members",
                "__doc__": "A member: where they are and whether they are in the party (plus what the service keeps).",
                "member_id": Column(Integer, primary_key=True, autoincrement=False),
                "organization_id": Column(Integer, nullable=False),
                "organization_path": Column(String(255), nullable=False),
                "status": Column(String(20), nullable=False),
                "in_party": Column(Boolean, nullable=False, default=True),
                "activated": Column(Boolean, nullable=False, default=False),  # has signed in: never goes back
                "__table_args__": (Index("ix_directory_members_path", "organization_path"),),
                **{field: PERSONAL[field]() for field in self.keep},
                **columns,
            },
        )
        self.Position = type(
            "DirectoryPosition",
            (base,),
            {
                "__tablename__": "directory_positions",
                "__doc__": "Who holds which position where (members.position_changed).",
                "member_id": Column(Integer, primary_key=True, autoincrement=False),
                "organization_id": Column(Integer, primary_key=True, autoincrement=False),
                "role": Column(String(32), primary_key=True),
                "organization_path": Column(String(255), nullable=False, index=True),
            },
        )
        self.Erased = type(
            "DirectoryErased",
            (base,),
            {
                "__tablename__": "directory_erased",
                "__doc__": "Members erased on request: a snapshot of them still on its way is not taken in again.",
                "member_id": Column(Integer, primary_key=True, autoincrement=False),
                "erased_at": Column(DateTime(timezone=True), nullable=False, default=utcnow),
            },
        )

    def tally(self, name, counts, subject=None):
        """A running total per (subject, organisation) in this directory's database that follows its moves."""
        tally = Tally(self.base, name, counts, subject=subject)
        self.tallies.append(tally)
        return tally

    # --- the effects of members' events (for db.once) -----------------------------------------------------

    def member_changed(self, session, envelope):
        """members.member_created / member_updated, for a service with nothing of its own to add."""
        self.project_member(session, envelope["payload"])

    def position_changed(self, session, envelope):
        payload = envelope["payload"]
        self._organization(session, payload["organization_id"], payload["organization_path"])
        key = {
            "member_id": payload["member_id"],
            "organization_id": payload["organization_id"],
            "role": payload["role"],
        }
        if payload["action"] == "removed":
            session.execute(delete(self.Position).filter_by(**key))
        elif session.get(self.Position, key) is None:
            session.add(self.Position(**key, organization_path=payload["organization_path"]))

    def rollout_changed(self, session, envelope):
        payload = envelope["payload"]
        self._organization(session, payload["organization_id"], payload["organization_path"]).rollout = payload["state"]

    def member_erased(self, session, envelope):
        self.erase(session, envelope["payload"]["member_id"])

    # --- writing ---------------------------------------------------------------------------------------------

    def project_member(self, session, snapshot):
        """Upsert a member from members' snapshot (an event's payload, or a row of the bulk re-read). Returns the
        Change, or None for a member erased here (a snapshot still on its way brings nothing back)."""
        member_id = snapshot["member_id"]
        row = session.get(self.Membership, member_id)
        if row is None and session.get(self.Erased, member_id) is not None:
            return None
        self._organization(session, snapshot["organization_id"], snapshot["organization_path"])
        if row is None:
            row, before = self.Membership(member_id=member_id), None
            session.add(row)
        else:
            before = {column.key: getattr(row, column.key) for column in self.Membership.__table__.columns}
        row.organization_id = snapshot["organization_id"]
        row.organization_path = snapshot["organization_path"]
        row.status = snapshot["status"]
        row.in_party = snapshot["status"] in IN_PARTY
        row.activated = bool(row.activated) or bool(snapshot.get("activated"))
        for field in self.keep:
            value = snapshot.get(field)
            setattr(row, field, date.fromisoformat(value) if field == "date_of_birth" and value else value)
        if self.totals is not None:
            self._count(session, before, {"in_party": row.in_party, "status": row.status}, row.organization_path)
        return Change(row, before)

    def _count(self, session, before, after, path):
        """The totals follow one membership row from `before` (None: new) to `after` (None: gone) at `path`."""
        changes = []
        if counted(before):
            changes.append((None, before["organization_path"], counted(before), -1))
        if counted(after):
            changes.append((None, path, counted(after), +1))
        self.totals.apply(session, changes)

    def mark_activated(self, session, member_id):
        """identity.account_activated: the member signed in (their next snapshot says so too). Returns the row."""
        row = session.get(self.Membership, member_id)
        if row is not None:
            row.activated = True
        return row

    def erase(self, session, member_id):
        """Everything this directory holds of a member goes, and stays gone."""
        session.execute(delete(self.Position).where(self.Position.member_id == member_id))
        row = session.get(self.Membership, member_id)
        if row is not None and self.totals is not None:
            self._count(
                session,
                {"in_party": row.in_party, "status": row.status, "organization_path": row.organization_path},
                None,
                None,
            )
        session.execute(delete(self.Membership).where(self.Membership.member_id == member_id))
        if session.get(self.Erased, member_id) is None:
            session.add(self.Erased(member_id=member_id))

    def _organization(self, session, organization_id, path):
        """The organisation's row, made or brought up to date with the path an event gives it. Every organisation
        above it has a row too, so a move is seen whichever organisation below the moved one an event names."""
        prefixes = dict(zip(ancestor_ids(path), ancestor_paths(path), strict=True))
        while True:  # the shallowest move first: it carries its subtree, then one below it may have moved too
            known = dict(
                session.execute(
                    select(self.Organization.id, self.Organization.path).where(self.Organization.id.in_(prefixes))
                ).all()
            )
            moved = next((i for i in prefixes if i in known and known[i] != prefixes[i]), None)
            if moved is None:
                break
            self._moved(session, known[moved], prefixes[moved])
        for ancestor_id, prefix in prefixes.items():
            if ancestor_id not in known:
                session.add(self.Organization(id=ancestor_id, path=prefix, level=level_of(prefix), rollout="disabled"))
        session.flush()
        return session.get(self.Organization, organization_id)

    def _moved(self, session, old, new):
        """An organisation on both paths sits elsewhere now (a move, a merge): the shallowest such one carried its
        whole subtree along, so every path below it is rewritten at once (as members did)."""
        old_ids = ancestor_ids(old)
        for new_prefix, organization_id in zip(ancestor_paths(new), ancestor_ids(new), strict=False):
            if organization_id not in old_ids:
                continue
            old_prefix = ancestor_paths(old)[old_ids.index(organization_id)]
            if old_prefix != new_prefix:
                low, high = subtree_bounds(old_prefix)
                for column in (
                    self.Organization.path,
                    self.Position.organization_path,
                    self.Membership.organization_path,
                ):
                    session.execute(
                        update(column.class_)
                        .where(column >= low, column < high)
                        .values({column: new_prefix + func.substr(column, len(old_prefix) + 1)})
                    )
                for tally in self.tallies:
                    tally.moved(session, old_prefix, new_prefix)
                session.expire_all()
                return

    # --- reading ---------------------------------------------------------------------------------------------

    def scope(self, session, member_id):
        in_party = session.scalar(select(self.Membership.in_party).where(self.Membership.member_id == member_id))
        positions = (
            session.execute(
                select(self.Position.role, self.Position.organization_path).where(self.Position.member_id == member_id)
            ).all()
            if in_party
            else []
        )
        return Scope(
            member_id=member_id,
            administrator=any(role == ADMIN_ROLE for role, _ in positions),
            paths=tuple(path for role, path in positions if role in OFFICER_ROLES),
        )

    def members_in(self, session, path):
        """(members in the party, official members) in the subtree at `path` (Directory(…, totals=True))."""
        found = self.totals.subtree(session, None, path)
        return found["members"], found["official"]

    def children(self, session, path):
        """[{organization_id, organization_path, members, official}] per child of the organisation at `path` that
        ever counted anyone (a child nobody was ever in has no row: the report shows it as zeros)."""
        return self.totals.by_child(session, None, path)

    def audience(self, session, path, audience_paths):
        """Members in the party under `path` whom an audience of organisations (a document's) reaches: (in all,
        {child organisation id: n}) — what a committee's study report divides by."""
        if any(in_subtree(path, reached) for reached in audience_paths):
            return self.members_in(session, path)[0], {
                row["organization_id"]: row["members"] for row in self.children(session, path)
            }
        inside = {reached for reached in audience_paths if in_subtree(reached, path)}
        # an organisation inside another of the audience is counted with it, not twice
        outermost = [reached for reached in inside if not any(reached != o and in_subtree(reached, o) for o in inside)]
        depth, total, children = len(ancestor_ids(path)), 0, Counter()
        for reached in outermost:
            members = self.members_in(session, reached)[0]
            total += members
            children[ancestor_ids(reached)[depth]] += members
        return total, dict(children)

    def recount(self, session):
        """Rebuild the totals from the membership rows (totals switched on for a directory already filled)."""
        rows = session.execute(
            select(self.Membership.organization_path, self.Membership.status, func.count())
            .where(self.Membership.in_party)
            .group_by(self.Membership.organization_path, self.Membership.status)
        ).all()
        self.totals.rebuild(
            session,
            [(None, path, {"members": n, "official": n if status == "official" else 0}) for path, status, n in rows],
        )

    def position_holders(self, session, member_ids):
        """Which of these members hold any position (administrators' and officers' accounts are guarded more)."""
        if not member_ids:
            return set()
        return set(session.scalars(select(self.Position.member_id).where(self.Position.member_id.in_(member_ids))))

    def rolled_out(self, session, path, states):
        """Whether the organisation at `path` or one above it is in one of these rollout `states`."""
        return (
            session.scalar(
                select(func.count())
                .select_from(self.Organization)
                .where(self.Organization.path.in_(ancestor_paths(path)), self.Organization.rollout.in_(states))
            )
            > 0
        )
