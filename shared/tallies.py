"""Running totals per (subject, organisation): what a committee's report reads instead of scanning members.

A row holds the totals of an organisation's whole subtree: a contribution (a member read a document, attended a
meeting) is added to its organisation and to every one above it, at most five rows, in one statement. So a
committee's figure is one row, and its children's figures are one indexed range scan that reads only the children
(subject, depth, path): a province's few hundred communes, the country's 34 provinces, whatever lies below them.

    reads = directory.tally("content_document_totals", subject=Column(Integer), counts=("read", "passed"))
    reads.add(session, document_id, member.organization_id, member.organization_path, read=1)
    reads.move(session, {document_id: {"read": 1}}, (old_id, old_path), (new_id, new_path))  # the member moved
    reads.subtree(session, document_id, "/1/7/")      # {"read": …, "passed": …}
    reads.by_child(session, document_id, "/1/7/")     # [{organization_id, organization_path, read, passed}]

A tally made by `directory.tally` follows the directory's organisation moves (a subtree's totals leave the
committees it left and join those above it now). Paths are the directory's: add with the path the service's
directory holds for the member, so both move together. Writers touch rows in one order (by path), so two
transactions never wait on each other crosswise.
"""

from collections import defaultdict

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    SmallInteger,
    String,
    delete,
    func,
    insert,
    select,
    true,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from shared.tree import ancestor_ids, ancestor_paths, subtree_bounds

INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}
ROWS_PER_INSERT = 5_000


def depth_of(path):
    return len(ancestor_ids(path))


def chain(path):
    """[(organization id, path)] of the organisation at `path` and every one above it, the centre first."""
    return list(zip(ancestor_ids(path), ancestor_paths(path), strict=True))


class Tally:
    def __init__(self, base, name, counts, subject=None):
        self.counts = tuple(counts)
        self.name = name
        attributes = {
            "__tablename__": name,
            "__doc__": f"Running totals of {', '.join(self.counts)} per organisation subtree.",
            "organization_id": Column(Integer, primary_key=True, autoincrement=False),
            "organization_path": Column(String(255), nullable=False),
            "depth": Column(SmallInteger, nullable=False),  # the path's length: children are depth + 1
            **{count: Column(BigInteger, nullable=False, default=0, server_default="0") for count in self.counts},
        }
        keyed = ("depth", "organization_path")
        if subject is not None:
            column_type = subject.type if isinstance(subject, Column) else subject
            attributes["subject"] = Column(column_type, primary_key=True, autoincrement=False)
            keyed = ("subject", *keyed)
        attributes["__table_args__"] = (Index(f"ix_{name}_children", *keyed),)
        title = "".join(part.title() for part in name.split("_"))
        self.Row = type(title, (base,), attributes)
        self.table = self.Row.__table__
        self.subject = self.table.c.get("subject")

    # --- writing ---------------------------------------------------------------------------------------------

    def add(self, session, subject, organization_id, organization_path, **deltas):
        """Count `deltas` (e.g. read=1, or passed=-1) for a member of `organization_id` at `organization_path`."""
        if ancestor_ids(organization_path)[-1] != organization_id:
            raise ValueError(f"{organization_path} is not the path of organisation {organization_id}")
        self.apply(session, [(subject, organization_path, deltas, +1)])

    def move(self, session, member_contributions, old_org, new_org):
        """A member moved from `old_org` to `new_org` ((id, path) each): what they counted moves with them.
        `member_contributions` is {subject: {count: n}}, what the owning service knows the member contributed."""
        old_path, new_path = old_org[1], new_org[1]
        changes = []
        for subject, counted in _pairs(member_contributions):
            changes += [(subject, old_path, counted, -1), (subject, new_path, counted, +1)]
        self.apply(session, changes)

    def apply(self, session, changes):
        """Apply [(subject, path, {count: n}, sign)] at once: each to the organisation at the path and every one
        above it. What cancels out (the committees above both ends of a move) is not written at all."""
        net = defaultdict(lambda: dict.fromkeys(self.counts, 0))
        paths = {}
        for subject, path, counted, sign in changes:
            unknown = set(counted) - set(self.counts)
            if unknown:
                raise ValueError(f"{self.name} counts no {sorted(unknown)}")
            for organization_id, prefix in chain(path):
                key = (subject, organization_id)
                paths.setdefault(key, prefix)
                for count, n in counted.items():
                    net[key][count] += sign * n
        rows = [
            {**self._key(subject, organization_id), "organization_path": paths[key], "depth": depth_of(paths[key]), **n}
            for key, n in net.items()
            if any(n.values())
            for subject, organization_id in [key]
        ]
        self._upsert(session, sorted(rows, key=lambda row: (str(row.get("subject")), row["organization_path"])))

    def _upsert(self, session, rows):
        if not rows:
            return
        statement = INSERTS[session.get_bind().dialect.name](self.table)
        statement = statement.on_conflict_do_update(
            index_elements=list(self.table.primary_key.columns),
            set_={count: self.table.c[count] + statement.excluded[count] for count in self.counts},
        )
        # executemany (the statement compiled once, sent in batches): `.values(rows)` compiled a statement of
        # ROWS_PER_INSERT × columns parameters each time, 30 of a recount's 35 s in a profile
        for start in range(0, len(rows), ROWS_PER_INSERT):
            session.execute(statement, rows[start : start + ROWS_PER_INSERT])

    def moved(self, session, old_prefix, new_prefix):
        """The organisation at `old_prefix` sits at `new_prefix` now, its subtree with it: its totals leave the
        committees above it that it left and join those it joined; every path below it is rewritten."""
        root = ancestor_ids(old_prefix)[-1]
        subject = [self.subject] if self.subject is not None else []
        totals = session.execute(
            select(*subject, *(self.table.c[count] for count in self.counts)).where(
                self.table.c.organization_id == root
            )
        ).all()
        changes = []
        for row in totals:
            value = row[0] if subject else None
            counted = dict(zip(self.counts, row[len(subject) :], strict=True))
            old_parent, new_parent = _parent(old_prefix), _parent(new_prefix)
            changes += [(value, path, counted, sign) for path, sign in ((old_parent, -1), (new_parent, +1)) if path]
        self.apply(session, changes)
        low, high = subtree_bounds(old_prefix)
        path = self.table.c.organization_path
        session.execute(
            update(self.table)
            .where(path >= low, path < high)
            .values(
                organization_path=new_prefix + func.substr(path, len(old_prefix) + 1),
                depth=self.table.c.depth + (depth_of(new_prefix) - depth_of(old_prefix)),
            )
        )

    def rebuild(self, session, contributions):
        """Replace every total with those of `contributions` [(subject, path, {count: n})]: a recount (a tally
        started on a directory already full, or a repair)."""
        session.execute(delete(self.table))
        net = {}
        for subject, path, counted in contributions:
            for organization_id, prefix in chain(path):
                key = (subject, organization_id)
                row = net.setdefault(
                    key,
                    {**self._key(*key), "organization_path": prefix, "depth": depth_of(prefix)}
                    | dict.fromkeys(self.counts, 0),
                )
                for count, n in counted.items():
                    row[count] += n
        rows = list(net.values())
        for start in range(0, len(rows), ROWS_PER_INSERT):
            session.execute(insert(self.table), rows[start : start + ROWS_PER_INSERT])

    # --- reading ---------------------------------------------------------------------------------------------

    def subtree(self, session, subject, path):
        """{count: n} for the subtree at `path`; `subject` may be a list of subjects (e.g. months), summed."""
        row = session.execute(
            select(*(func.coalesce(func.sum(self.table.c[count]), 0) for count in self.counts)).where(
                self._subjects(subject), self.table.c.organization_id == ancestor_ids(path)[-1]
            )
        ).one()
        return dict(zip(self.counts, (int(n) for n in row), strict=True))

    def by_child(self, session, subject, path):
        """[{organization_id, organization_path, count: n…}] for each child of the organisation at `path` that has
        a row (children with nothing counted yet have none), ordered by path: one range scan of the children (per
        subject when several are summed, e.g. the months of a year)."""
        counts = self.counts
        rows = [
            {
                "organization_id": row[0],
                "organization_path": row[1],
                **dict(zip(counts, map(int, row[2:]), strict=True)),
            }
            for row in session.execute(self.children_query(subject, path)).tuples()
        ]
        return sorted(rows, key=lambda row: row["organization_path"])

    def children_query(self, subject, path):
        """The statement behind `by_child` (benchmarks and tests EXPLAIN it): the children's rows of one subject
        straight from the index range; several subjects' summed per child. Unsorted: the caller sorts a few
        thousand rows faster than the database would group and sort them."""
        low, high = subtree_bounds(path)
        key = (self.table.c.organization_id, self.table.c.organization_path)
        counted = [self.table.c[count] for count in self.counts]
        several = self.subject is not None and _several(subject)
        statement = select(*key, *(func.sum(column) if several else column for column in counted)).where(
            self._subjects(subject), self.table.c.depth == depth_of(path) + 1, key[1] >= low, key[1] < high
        )
        return statement.group_by(*key) if several else statement

    def report(self, session, subject, path, **figures):
        """What a report RPC answers for the organisation at `path` (the gateway names the children, adds rates
        and those with nothing: services/gateway/reports.py): `{organization_id, <count>…, children:
        [{organization_id, <count>…}]}`. `figures` are columns from elsewhere, each `(total, {child id: n})`, such
        as a document's audience from `directory.audience`."""
        children = {
            row["organization_id"]: {key: n for key, n in row.items() if key != "organization_path"}
            for row in self.by_child(session, subject, path)
        }
        answer = {"organization_id": ancestor_ids(path)[-1], **self.subtree(session, subject, path)}
        for name, (total, per_child) in figures.items():
            answer[name] = total
            for organization_id, n in per_child.items():
                children.setdefault(organization_id, {"organization_id": organization_id})[name] = n
        answer["children"] = [
            {**dict.fromkeys((*self.counts, *figures), 0), **row} for _, row in sorted(children.items())
        ]
        return answer

    def _key(self, subject, organization_id):
        if self.subject is None:
            if subject is not None:
                raise ValueError(f"{self.name} has no subject")
            return {"organization_id": organization_id}
        return {"subject": subject, "organization_id": organization_id}

    def _subjects(self, subject):
        if self.subject is None:
            return true()
        if _several(subject):
            return self.subject.in_(list(subject))
        return self.subject == subject


def _several(subject):
    return isinstance(subject, list | tuple | set | frozenset)


def _parent(path):
    above = ancestor_paths(path)[:-1]
    return above[-1] if above else None


def _pairs(contributions):
    return contributions.items() if isinstance(contributions, dict) else contributions
