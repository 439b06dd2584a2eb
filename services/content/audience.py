"""Who a document concerns, decided by organisation path at read time: a member sees a published document when its
audience holds their organisation or one above it (the ids in their own path), so a publication writes a row per
audience organisation, never one per member, and a transferred member sees the new branch's documents at once.
Officers act on documents whose whole audience lies in their subtrees; system administrators on every one."""

from dataclasses import dataclass

from sqlalchemy import and_, exists, not_, or_, select

from shared.contracts.content import UnknownOrganization
from shared.directory import Scope, level_of
from shared.errors import Forbidden, NotFound
from shared.tree import ancestor_ids, ancestor_paths, subtree_bounds
from services.content.models import Audience, Document, directory

UNKNOWN = "Không có tổ chức này. / No such organisation."
NOT_YOURS = "Ngoài phạm vi phụ trách của bạn. / Outside the organisations you are responsible for."


@dataclass(frozen=True)
class Reader:
    """The caller as content knows them: where they are (None: not in the party, or not heard of yet) and what
    they manage."""

    member_id: int
    organizations: tuple  # their organisation and every one above it (ids)
    scope: Scope

    @property
    def officer(self):
        return self.scope.administrator or bool(self.scope.paths)


def organizations_of(session, member_id):
    """The member's organisation and every one above it (ids); none when not in the party or not heard of yet."""
    row = session.get(directory.Membership, member_id)
    return tuple(ancestor_ids(row.organization_path)) if row is not None and row.in_party else ()


def reader(session, principal, organizations=None):
    """The caller as a Reader (`organizations`: organizations_of, when already asked)."""
    member_id = principal.member_id
    if organizations is None:
        organizations = organizations_of(session, member_id)
    return Reader(member_id, organizations, directory.scope(session, member_id))


def known_organizations(session, organization_ids):
    """The directory's rows of these organisations, in order; our 400 naming those content has not heard of."""
    Organization = directory.Organization
    found = {org.id: org for org in session.scalars(select(Organization).where(Organization.id.in_(organization_ids)))}
    unknown = {index: [UNKNOWN] for index, org_id in enumerate(organization_ids) if org_id not in found}
    if unknown:
        raise UnknownOrganization(details={"audience": unknown})
    return [found[org_id] for org_id in organization_ids]


def require_manages(scope, organizations):
    if not scope.administrator and not all(scope.manages(org.path) for org in organizations):
        raise Forbidden(details={"audience": [NOT_YOURS]})


def note_ancestors(session, path):
    """The organisations above a projected one, known by their path alone (an audience may name a committee no
    event has named yet: every member's path carries it)."""
    Organization = directory.Organization
    for org_id, org_path in zip(ancestor_ids(path), ancestor_paths(path), strict=True):
        if session.get(Organization, org_id) is None:
            session.add(Organization(id=org_id, path=org_path, level=level_of(org_path), rollout="disabled"))
            session.flush()


def audience_of(session, document_ids):
    """document id → [(organization id, path)] for these documents."""
    Organization = directory.Organization
    rows = session.execute(
        select(Audience.document_id, Audience.organization_id, Organization.path)
        .join(Organization, Organization.id == Audience.organization_id)
        .where(Audience.document_id.in_(document_ids))
        .order_by(Audience.document_id, Audience.organization_id)
    )
    found = {document_id: [] for document_id in document_ids}
    for document_id, organization_id, path in rows:
        found[document_id].append((organization_id, path))
    return found


def may_edit(session, reader, document):
    if reader.scope.administrator:
        return True
    paths = [path for _, path in audience_of(session, [document.id])[document.id]]
    return bool(reader.scope.paths) and bool(paths) and all(reader.scope.manages(path) for path in paths)


def addressed_to(organizations):
    """SQL: the document's audience holds one of these organisations (a reader's own and those above it)."""
    return Document.id.in_(select(Audience.document_id).where(Audience.organization_id.in_(organizations or (-1,))))


def within_scope(reader):
    """SQL: every organisation of the document's audience lies in the reader's subtrees (administrators: all)."""
    if reader.scope.administrator:
        return Document.id.is_not(None)
    Organization = directory.Organization
    inside = or_(*(and_(Organization.path >= low, Organization.path < high) for low, high in _ranges(reader)))
    outside = (
        select(Audience.document_id)
        .join(Organization, Organization.id == Audience.organization_id)
        .where(Audience.document_id == Document.id, not_(inside))
    )
    return and_(not_(exists(outside)), exists(select(Audience.document_id).where(Audience.document_id == Document.id)))


def _ranges(reader):
    return [subtree_bounds(path) for path in reader.scope.paths] or [("", "")]


def visible(session, reader, document):
    """Whether the reader may see this document at all: its audience (published), or an officer over it."""
    if document.status == "published" and reader.organizations:
        if session.scalar(select(addressed_to(reader.organizations)).where(Document.id == document.id)):
            return True
    return reader.officer and may_edit(session, reader, document)


def get_visible(session, reader, document_id):
    """The document, or 404 for anyone it does not concern (they must not learn it exists)."""
    document = session.get(Document, document_id)
    if document is None or not visible(session, reader, document):
        raise NotFound()
    return document


def get_editable(session, reader, document_id):
    """The document the reader may act on as an officer: 404 when they may not see it, 403 when they only read it."""
    document = get_visible(session, reader, document_id)
    if not may_edit(session, reader, document):
        raise Forbidden()
    return document


# members' events, as content's directory takes them (db.once effects)


def project_member(session, snapshot):
    """The directory's Change (None: an erased member), for the study totals to follow (progress.py)."""
    change = directory.project_member(session, snapshot)
    if change is not None:
        note_ancestors(session, snapshot["organization_path"])
    return change


def position_changed(session, envelope):
    directory.position_changed(session, envelope)
    note_ancestors(session, envelope["payload"]["organization_path"])


def papers_reaching(session, organization_path, document_ids):
    """Of these documents, the published ones every member of the organisation at `organization_path` sees (its
    audience names it or one above it): meetings' agenda papers, readable by everyone the meeting concerns; with
    their titles, for the agenda to show."""
    organizations = ancestor_ids(organization_path)
    reaching = session.execute(
        select(Document.id, Document.title)
        .where(
            Document.id.in_(document_ids),
            Document.status == "published",
            Document.id.in_(select(Audience.document_id).where(Audience.organization_id.in_(organizations or (-1,)))),
        )
        .order_by(Document.id)
    )
    papers = [{"id": document_id, "title": title} for document_id, title in reaching]
    return {"reaching": [paper["id"] for paper in papers], "papers": papers}
