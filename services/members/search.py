"""Finding members within a subtree: by name (diacritics and case ignored), citizen ID or
party card number, a page at a time (keyset cursors, so page 1000 costs what page 1 does)."""

import re
import sys

from sqlalchemy import and_, or_, select

from shared.contracts.common import decode_cursor, encode_cursor, is_citizen_id
from shared.errors import NotFound, ValidationError
from shared.tree import subtree_bounds
from services.members.counts import IN_PARTY
from services.members.domain import member_json, search_key, visible_organization
from services.members.models import Member

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
PARTY_CARD = re.compile(r"[0-9A-Za-z-]{4,32}")


def _next_prefix(prefix):
    """The smallest string greater than every string starting with `prefix`; None when there is none
    (the prefix ends in the last code points). Surrogates are skipped: no database stores them."""
    prefix = prefix.rstrip(chr(sys.maxunicode))
    if not prefix:
        return None
    following = ord(prefix[-1]) + 1
    return prefix[:-1] + chr(0xE000 if 0xD800 <= following <= 0xDFFF else following)


def find(session, organization, q=None, status=None, cursor=None, limit=PAGE_SIZE, branch_only=False, summary=False):
    """A page of members of `organization`'s subtree (or its own members when `branch_only`).
    A `summary` search is of current members, by name only: `q` is never an ID there."""
    limit = max(1, min(int(limit or PAGE_SIZE), MAX_PAGE_SIZE))
    query = select(Member)
    if branch_only:
        query = query.where(Member.organization_id == organization.id)
    else:
        low, high = subtree_bounds(organization.path)
        query = query.where(Member.organization_path >= low, Member.organization_path < high)
    if status:
        query = query.where(Member.status == status)
    if summary:
        query = query.where(Member.status.in_(IN_PARTY))
    q = (q or "").strip()
    if q and not summary and is_citizen_id(q):
        query = query.where(Member.citizen_id == q)
    elif q and not summary and PARTY_CARD.fullmatch(q) and any(ch.isdigit() for ch in q):
        query = query.where(Member.party_card_number == q)
    elif q:
        key = search_key(q)
        if not key:
            raise ValidationError(details={"q": ["Hãy nhập một phần họ tên. / Type part of a name."]})
        query = query.where(Member.search_name >= key)
        following = _next_prefix(key)
        if following is not None:
            query = query.where(Member.search_name < following)
    # one order for every page: by name, then id
    query = query.order_by(Member.search_name, Member.id)
    if cursor:
        name, last_id = decode_cursor(cursor, str, int)
        query = query.where(or_(Member.search_name > name, and_(Member.search_name == name, Member.id > last_id)))
    rows = session.scalars(query.limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(rows[-1].search_name, rows[-1].id) if more else None
    return rows, next_cursor


def member_page(session, actor, organization_id, q=None, status=None, cursor=None, limit=PAGE_SIZE):
    """Officers search their subtree's records; a member of the party sees the names and positions of
    their own branch's current members."""
    organization = visible_organization(session, actor, organization_id)
    if actor.manages(organization.path):
        rows, next_cursor = find(session, organization, q, status, cursor, limit)
        return {"items": [member_json(m) for m in rows], "next_cursor": next_cursor}
    if organization.id != actor.member.organization_id or actor.member.status not in IN_PARTY:
        raise NotFound()
    rows, next_cursor = find(session, organization, q, status, cursor, limit, branch_only=True, summary=True)
    return {
        "items": [
            {
                "id": m.id,
                "full_name": m.full_name,
                "positions": [{"role": p.role, "organization_id": p.organization_id} for p in m.positions],
            }
            for m in rows
        ],
        "next_cursor": next_cursor,
    }
