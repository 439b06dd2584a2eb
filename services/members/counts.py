"""Subtree counts: a committee's dashboard figures without scanning its members.

Each member counts once in every committee above its branch (centre, province,
grassroots), in four dimensions (status, gender, birth year, activated): the
country's figures are a few dozen rows, whatever its size. A write adjusts at
most 3 × 4 rows; an import rebuilds the table in one pass. A branch (or party
group) is small enough to count on the spot from its members.
"""

from collections import Counter, defaultdict
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import case, delete, extract, func, insert, or_, select

from shared.contracts.common import IN_PARTY
from shared.contracts.members import LEVELS
from shared.tallies import INSERTS
from shared.tree import ancestor_ids, subtree_bounds
from services.members.models import Member, Organization, SubtreeCount

DIMENSIONS = ("status", "gender", "birth_year", "activated")
AGE_BANDS = ((18, 30), (31, 40), (41, 50), (51, 60), (61, 70), (71, 80), (81, 200))


def values_of(member):
    """The member's value in each dimension (as stored: strings). Someone who left counts
    by status only: the other figures describe the members of the committee today."""
    if member.status not in IN_PARTY:
        return {"status": member.status}
    born = member.date_of_birth
    return {
        "status": member.status,
        "gender": member.gender or "unknown",
        "birth_year": str(born.year) if born else "unknown",
        "activated": "yes" if member.activated else "no",
    }


COUNTED_LEVELS = 3  # centre, province, grassroots: the levels whose subtrees are large


def adjust(session, path, values, delta):
    """Add `delta` (±1) for these values to every committee on `path` above the branch: one upsert, so two
    replicas adding the first member of a kind to a committee at once both count (neither fails on the key)."""
    rows = [
        {"organization_id": organization_id, "dimension": dimension, "value": value, "count": delta}
        for organization_id in ancestor_ids(path)[:COUNTED_LEVELS]
        for dimension, value in values.items()
    ]
    if rows:
        statement = INSERTS[session.get_bind().dialect.name](SubtreeCount).values(rows)
        session.execute(
            statement.on_conflict_do_update(
                index_elements=list(SubtreeCount.__table__.primary_key.columns),
                set_={"count": SubtreeCount.count + statement.excluded["count"]},
            )
        )


def move(session, old_path, old_values, new_path, new_values):
    if (old_path, old_values) != (new_path, new_values):
        adjust(session, old_path, old_values, -1)
        adjust(session, new_path, new_values, +1)


def rebuild(session, pause=None, rows=None):
    """Recount everything from the members table (after an import, or to repair).

    Members are grouped by the committee just above their branch, so the database
    returns a few rows per committee rather than per branch. `rows(query)` runs each grouping
    (an import's apply runs them off the event loop)."""
    rows = rows or (lambda query: session.execute(query).all())
    counted = case((Organization.level.in_(LEVELS[COUNTED_LEVELS:]), Organization.parent_id), else_=Organization.id)
    columns = {
        "status": Member.status,
        "gender": func.coalesce(Member.gender, "unknown"),
        "birth_year": extract("year", Member.date_of_birth),
        "activated": Member.activated,
    }
    paths = dict(session.execute(select(Organization.id, Organization.path)).all())
    total = Counter()
    for dimension, column in columns.items():
        query = (
            select(counted, column, func.count())
            .select_from(Member)
            .join(Organization, Organization.id == Member.organization_id)
            .group_by(counted, column)
        )
        if dimension != "status":
            query = query.where(Member.status.in_(IN_PARTY))
        for organization_id, value, count in rows(query):
            total[(organization_id, dimension, _as_value(dimension, value))] += count
        if pause:
            pause()  # an import's apply: one query at a time, others answer in between
    return replace_with(session, total, paths)


def replace_with(session, direct, paths=None):
    """Counts from `direct` {(committee id, dimension, value): n}, each added to the committees above it."""
    paths = paths or dict(session.execute(select(Organization.id, Organization.path)).all())
    total = Counter()
    for (organization_id, dimension, value), count in direct.items():
        # the first three levels of the path: centre, province, grassroots
        for ancestor in ancestor_ids(paths[organization_id])[:COUNTED_LEVELS]:
            total[(ancestor, dimension, value)] += count
    session.execute(delete(SubtreeCount))
    rows = [{"organization_id": o, "dimension": d, "value": v, "count": c} for (o, d, v), c in total.items() if c]
    for start in range(0, len(rows), 10_000):
        session.execute(insert(SubtreeCount), rows[start : start + 10_000])
    return len(rows)


def _as_value(dimension, value):
    if dimension == "birth_year":
        return "unknown" if value is None else str(int(value))
    if dimension == "activated":
        return "yes" if value in (True, 1, "1") else "no"
    return str(value)


def _counted_on_the_spot(session, path):
    low, high = subtree_bounds(path)
    counter = Counter()
    for member in session.scalars(
        select(Member).where(Member.organization_path >= low, Member.organization_path < high)
    ):
        for dimension, value in values_of(member).items():
            counter[(dimension, value)] += 1
    return [(dimension, value, count) for (dimension, value), count in counter.items()]


def uptake(session, organization):
    """Members in the party and how many of them signed in, for the subtree of `organization` and for each of its
    children's (the gateway adds names, rows of zeros and rates: services/gateway/reports.py)."""
    depth = len(ancestor_ids(organization.path))
    figures = defaultdict(lambda: {"in_party": 0, "activated": 0})
    if depth < COUNTED_LEVELS:  # the children are counted committees too: their rows, not their members
        rows = session.execute(
            select(SubtreeCount.organization_id, SubtreeCount.dimension, SubtreeCount.value, SubtreeCount.count)
            .join(Organization, Organization.id == SubtreeCount.organization_id)
            .where(
                or_(Organization.id == organization.id, Organization.parent_id == organization.id),
                SubtreeCount.dimension.in_(("status", "activated")),
            )
        ).all()
        for organization_id, dimension, value, count in rows:
            if dimension == "status" and value in IN_PARTY:
                figures[organization_id]["in_party"] += count
            elif dimension == "activated" and value == "yes":
                figures[organization_id]["activated"] += count
    else:
        low, high = subtree_bounds(organization.path)
        rows = session.execute(
            select(Member.organization_path, Member.activated, func.count())
            .where(Member.organization_path >= low, Member.organization_path < high, Member.status.in_(IN_PARTY))
            .group_by(Member.organization_path, Member.activated)
        ).all()
        for path, activated, count in rows:
            below = ancestor_ids(path)[depth : depth + 1]  # the child it is in, if not the organisation itself
            for organization_id in (organization.id, *below):
                figures[organization_id]["in_party"] += count
                figures[organization_id]["activated"] += count if activated else 0
    top = figures.pop(organization.id, {"in_party": 0, "activated": 0})
    return {
        "organization_id": organization.id,
        **top,
        "children": [{"organization_id": key, **value} for key, value in sorted(figures.items())],
    }


VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")


def vietnam_today(now=None):
    """Today's date in Vietnam, not the server's: a member's age and an import's checks go by the Vietnamese day."""
    return (now or datetime.now(VIETNAM)).astimezone(VIETNAM).date()


def stats(session, organization, today=None):
    """Members by status, gender, age band and uptake for the subtree of `organization`."""
    if len(ancestor_ids(organization.path)) > COUNTED_LEVELS:
        rows = _counted_on_the_spot(session, organization.path)
    else:
        rows = session.execute(
            select(SubtreeCount.dimension, SubtreeCount.value, SubtreeCount.count).where(
                SubtreeCount.organization_id == organization.id, SubtreeCount.count != 0
            )
        ).all()
    organization_id = organization.id
    by = {dimension: {} for dimension in DIMENSIONS}
    for dimension, value, count in rows:
        by[dimension][value] = count
    this_year = (today or vietnam_today()).year
    bands = {f"{low}-{high}" if high < 200 else f"{low}+": 0 for low, high in AGE_BANDS}
    unknown_age = 0
    for year, count in by["birth_year"].items():
        if year == "unknown":
            unknown_age += count
            continue
        age = this_year - int(year)
        for low, high in AGE_BANDS:
            if low <= age <= high:
                bands[f"{low}-{high}" if high < 200 else f"{low}+"] += count
                break
        else:
            unknown_age += count
    if unknown_age:
        bands["unknown"] = unknown_age
    in_party = sum(c for s, c in by["status"].items() if s in IN_PARTY)
    activated = by["activated"].get("yes", 0)
    return {
        "organization_id": organization_id,
        "total": sum(by["status"].values()),
        "in_party": in_party,
        "by_status": by["status"],
        "by_gender": by["gender"],
        "by_age_band": bands,
        "uptake": {
            "activated": activated,
            "not_activated": by["activated"].get("no", 0),
            "rate": round(activated / sum(by["activated"].values()), 4) if by["activated"] else 0.0,
        },
    }
