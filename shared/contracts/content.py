"""content's contract: documents and study material, their events, bodies and errors."""

from marshmallow import Schema, fields, validate

from shared.contracts.common import Event

CATEGORIES = ("news", "resolution", "directive", "regulation", "guidance", "study")
DOCUMENT_STATUSES = ("draft", "scheduled", "published", "withdrawn")


class AudienceOrganization(Schema):
    organization_id = fields.Integer(required=True)
    # the organisation's materialised path ("/1/12/345/"): a member sees the document when their own
    # organisation's path starts with it
    organization_path = fields.String(required=True)


class DocumentPublished(Schema):
    """A document (or a new version of one) became visible to every current member of its audience's subtrees.
    No body: a subscriber that needs it asks content, which checks who asks."""

    document_id = fields.Integer(required=True)
    version = fields.Integer(required=True)
    category = fields.String(required=True, validate=validate.OneOf(CATEGORIES))
    title = fields.String(required=True)
    summary = fields.String(allow_none=True, load_default=None)
    study = fields.Boolean(load_default=False)
    audience = fields.List(fields.Nested(AudienceOrganization), required=True)
    published_at = fields.AwareDateTime(required=True)
    author_member_id = fields.Integer(allow_none=True, load_default=None)


class DocumentWithdrawn(Schema):
    """A published document is gone for members (kept for audit)."""

    document_id = fields.Integer(required=True)
    audience = fields.List(fields.Nested(AudienceOrganization), required=True)
    withdrawn_at = fields.AwareDateTime(required=True)


EVENTS = {
    "content.document_published": Event(
        DocumentPublished, "A document or a new version of it was published to its audience."
    ),
    "content.document_withdrawn": Event(DocumentWithdrawn, "A published document was withdrawn."),
}
