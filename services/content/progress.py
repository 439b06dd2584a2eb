"""A committee's study progress: for an organisation's subtree and a document, how many members it reaches, how many
read it and how many passed its quiz, and the same for each organisation directly below (the gateway names them,
adds the rates and the XLSX: services/gateway/reports.py).

The figures are running totals by organisation path (`document_totals`, shared/tallies.py), never a scan of
members per request. What counts, so that the totals always equal a recount (`recount`):
- "read": a member in the party now who has a read receipt of the document (of any of its versions: the first
  reading is kept), counted where the member is now; "passed": one whose best quiz attempt reached the pass mark.
- A member's reads and passes move with them to another organisation, leave the totals when they leave the party
  (they leave the audience too) and come back if they rejoin; an erasure takes them out for good.
- The audience is the members in the party whom the document's audience organisations reach now (the directory's
  member totals); a member who read it and moved outside the audience still counts as a reader where they are.
"""

from collections import defaultdict

from sqlalchemy import delete, func, select

from shared.errors import NotFound
from shared.tree import in_subtree
from services.content import audience
from services.content.audience import audience_of, reader as reader_of
from services.content.models import Document, Read, StudyResult, directory, document_totals


def _counted_at(session, member_id):
    """(organization id, path) where the member's reads count, or None (not in the party, or unknown here)."""
    row = session.get(directory.Membership, member_id)
    return (row.organization_id, row.organization_path) if row is not None and row.in_party else None


def count(session, member_id, document_id, **deltas):
    """A first read receipt (read=1) or a first pass (passed=1) of a member: counted where they are."""
    where = _counted_at(session, member_id)
    if where is not None:
        document_totals.add(session, document_id, *where, **deltas)


def contributions(session, member_id):
    """{document id: {"read": 0|1, "passed": 0|1}}: what the member counts for, wherever they are."""
    found = defaultdict(lambda: {"read": 0, "passed": 0})
    for document_id in session.scalars(select(Read.document_id).where(Read.member_id == member_id)):
        found[document_id]["read"] = 1
    passed = select(StudyResult.document_id).where(StudyResult.member_id == member_id, StudyResult.passed)
    for document_id in session.scalars(passed):
        found[document_id]["passed"] = 1
    return dict(found)


def follow(session, change):
    """A member's directory row changed (directory.project_member's Change): their reads and passes leave the
    organisation they counted at and join the one they count at now (none while out of the party). Answers
    whether the documents addressed to them changed (moved, joined or left the party; one new here has no token
    yet: they must activate first, by which time this has long applied)."""
    if change is None or change.before is None:  # new here: nothing read yet (a read needs the directory row)
        return False
    before, row = change.before, change.row
    old = (before["organization_id"], before["organization_path"]) if before and before["in_party"] else None
    new = (row.organization_id, row.organization_path) if row.in_party else None
    if old == new:
        return False
    counted = contributions(session, row.member_id)
    changes = [(doc, old[1], n, -1) for doc, n in counted.items()] if old else []
    changes += [(doc, new[1], n, +1) for doc, n in counted.items()] if new else []
    document_totals.apply(session, changes)
    return True


def project_member(session, snapshot):
    """members' snapshot (an event, or a row of the bulk re-read) into the directory, the totals following.
    Answers the member's id when the documents addressed to them changed, else None."""
    return snapshot["member_id"] if follow(session, audience.project_member(session, snapshot)) else None


def member_changed(session, envelope):
    return project_member(session, envelope["payload"])


def member_erased(session, envelope):
    forget(session, envelope["payload"]["member_id"])
    directory.erase(session, envelope["payload"]["member_id"])


def forget(session, member_id):
    """The member is being erased: what they counted for leaves the totals (before their rows go)."""
    where = _counted_at(session, member_id)
    if where is not None:
        document_totals.apply(session, [(doc, where[1], n, -1) for doc, n in contributions(session, member_id).items()])


def recount(session, documents_per_pass=500):
    """Every total from the rows (the tally started on data already there, or a repair): the directory's member
    totals, then the documents' read and passed totals a few hundred documents at a time, so a national set (10 M
    receipts) is never held in memory at once."""
    directory.recount(session)
    session.execute(delete(document_totals.table))
    read = select(Read.document_id).distinct()
    passed = select(StudyResult.document_id).where(StudyResult.passed).distinct()
    documents = sorted(set(session.scalars(read)) | set(session.scalars(passed)))
    for start in range(0, len(documents), documents_per_pass):
        document_totals.apply(session, _counted(session, documents[start : start + documents_per_pass]))


def _counted(session, document_ids):
    """[(document, path, {read, passed}, +1)] for these documents: their readers and passes in the party, by path."""
    Membership = directory.Membership
    figures = defaultdict(lambda: {"read": 0, "passed": 0})
    for kind, table, extra in (("read", Read, ()), ("passed", StudyResult, (StudyResult.passed,))):
        rows = session.execute(
            select(table.document_id, Membership.organization_path, func.count())
            .join(Membership, Membership.member_id == table.member_id)
            .where(table.document_id.in_(document_ids), Membership.in_party, *extra)
            .group_by(table.document_id, Membership.organization_path)
        )
        for document_id, path, n in rows:
            figures[(document_id, path)][kind] += n
    return [(document_id, path, n, +1) for (document_id, path), n in figures.items()]


def study_progress(session, principal, organization_id, document_id):
    """For the officers over the organisation (others 404): audience, read and passed for its subtree and each
    organisation directly below. 404 too for a document none of the organisation's members may see."""
    reader = reader_of(session, principal)
    organization = session.get(directory.Organization, organization_id)
    if organization is None or not reader.scope.manages(organization.path):
        raise NotFound()
    document = session.get(Document, document_id)
    paths = [path for _, path in audience_of(session, [document_id])[document_id]] if document else []
    path = organization.path
    if document is None or document.status != "published" or not _reaches(path, paths):
        raise NotFound()
    figures = document_totals.report(session, document_id, path, audience=directory.audience(session, path, paths))
    return {**figures, "document_id": document_id}


def _reaches(path, audience_paths):
    """Whether some members of the subtree at `path` see a document addressed to these organisations."""
    return any(in_subtree(path, reached) or in_subtree(reached, path) for reached in audience_paths)
