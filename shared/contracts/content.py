"""content's contract: documents and study material, their events, bodies and errors."""

from marshmallow import Schema, ValidationError as SchemaError, fields, validate

from shared.contracts.common import Event, JsonBoolean, JsonDateTime, page
from shared.errors import Conflict, ValidationError
from shared.validation import INT64_MAX, StoredInteger, Strict, no_control_characters, written_text

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


class DocumentChanged(Schema):
    """A published document shows something new without a new version (a file attached): for those who keep what
    they read of it (the gateway's known list versions); nobody is told."""

    document_id = fields.Integer(required=True)
    audience = fields.List(fields.Nested(AudienceOrganization), required=True)


class ReaderMoved(Schema):
    """The documents addressed to a member changed as content's copy of the directory did (transferred, joined or
    left the party): for those who keep what they read (the gateway's known list versions)."""

    member_id = fields.Integer(required=True)


EVENTS = {
    "content.document_published": Event(
        DocumentPublished, "A document or a new version of it was published to its audience."
    ),
    "content.document_withdrawn": Event(DocumentWithdrawn, "A published document was withdrawn."),
    "content.document_changed": Event(DocumentChanged, "A published document changed without a new version."),
    "content.reader_moved": Event(ReaderMoved, "The documents addressed to a member changed (they moved)."),
}


# What members and officers send (bodies and queries)

LIMIT = "Tối đa 200 mỗi trang. / At most 200 a page."


def distinct(values):
    if len(set(values)) != len(values):
        raise SchemaError("Mỗi tổ chức một lần. / Each organisation once.")


# the control-character rules as patterns, so the document says what is refused (C0 and C1 controls; lines may break)
ONE_LINE = {"pattern": "^[^\\u0000-\\u001f\\u007f-\\u009f]*$"}
LINES = {"pattern": "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f]*$"}
TITLE = [validate.Length(min=1, max=300), no_control_characters]
SUMMARY = [validate.Length(max=1000), written_text]
BODY = [validate.Length(min=1, max=200_000), written_text]
AUDIENCE = [validate.Length(min=1, max=200), distinct]
AUDIENCE_HELP = (
    "Tổ chức nhận văn bản: mọi đảng viên hiện tại của cây tổ chức đó / The organisations whose subtrees' current "
    "members see it"
)
AUDIENCE_META = {"description": AUDIENCE_HELP, "uniqueItems": True}
AN_ID = validate.Range(min=1, max=INT64_MAX)  # what a database column holds, documented
AUDIENCE_ID = StoredInteger(validate=AN_ID)
BODY_HELP = (
    "Markdown (hoặc một tập HTML nhỏ); lưu và trả về dưới dạng HTML đã làm sạch / Markdown (or a small HTML subset); "
    "kept and answered as sanitised HTML"
)


class DocumentCreate(Strict):
    category = fields.String(required=True, validate=validate.OneOf(CATEGORIES))
    title = fields.String(required=True, validate=TITLE, metadata=ONE_LINE)
    summary = fields.String(load_default=None, allow_none=True, validate=SUMMARY, metadata=LINES)
    body = fields.String(required=True, validate=BODY, metadata={"description": BODY_HELP, **LINES})
    audience = fields.List(AUDIENCE_ID, required=True, validate=AUDIENCE, metadata=AUDIENCE_META)
    publish_at = fields.AwareDateTime(
        load_default=None, allow_none=True, metadata={"description": "lên lịch đăng / published then"}
    )
    study = JsonBoolean(load_default=False, metadata={"description": "tài liệu học tập / study material"})


class DocumentUpdate(Strict):
    """A draft is edited in place; a published document gets a new version (the earlier one stays for officers)."""

    category = fields.String(validate=validate.OneOf(CATEGORIES))
    title = fields.String(validate=TITLE, metadata=ONE_LINE)
    summary = fields.String(allow_none=True, validate=SUMMARY, metadata=LINES)
    body = fields.String(validate=BODY, metadata={"description": BODY_HELP, **LINES})
    audience = fields.List(AUDIENCE_ID, validate=AUDIENCE, metadata=AUDIENCE_META)
    publish_at = fields.AwareDateTime(allow_none=True, metadata={"description": "a draft or a scheduled one only"})
    study = JsonBoolean()


class DocumentQuery(Strict):
    category = fields.String(load_default=None, validate=validate.OneOf(CATEGORIES))
    q = fields.String(
        load_default=None,
        validate=[validate.Length(max=200), no_control_characters],
        metadata={
            "description": "toàn văn, không phân biệt dấu và hoa thường / full text, diacritics and case ignored"
        },
    )
    unread = fields.Boolean(load_default=None)
    bookmarked = fields.Boolean(load_default=None)
    status = fields.String(
        load_default="published",
        validate=validate.OneOf(DOCUMENT_STATUSES),
        metadata={"description": "officers: their subtree's drafts, scheduled or withdrawn documents"},
    )
    cursor = fields.String(load_default=None, validate=validate.Length(max=512))
    limit = StoredInteger(load_default=20, validate=validate.Range(min=1, max=200, error=LIMIT))


class VersionQuery(Strict):
    version = StoredInteger(load_default=None, validate=AN_ID, metadata={"description": "officers: an earlier version"})


NOTE_TITLE = [validate.Length(min=1, max=300), no_control_characters]
NOTE_BODY = [validate.Length(max=100_000), written_text]


class NoteCreate(Strict):
    title = fields.String(required=True, validate=NOTE_TITLE, metadata=ONE_LINE)
    body = fields.String(load_default="", validate=NOTE_BODY, metadata=LINES)
    document_id = StoredInteger(load_default=None, allow_none=True, validate=AN_ID)
    meeting_id = StoredInteger(load_default=None, allow_none=True, validate=AN_ID)


class NoteUpdate(Strict):
    title = fields.String(validate=NOTE_TITLE, metadata=ONE_LINE)
    body = fields.String(validate=NOTE_BODY, metadata=LINES)
    document_id = StoredInteger(allow_none=True, validate=AN_ID)
    meeting_id = StoredInteger(allow_none=True, validate=AN_ID)


class StudyProgressQuery(Strict):
    """A committee's study progress: for which document (one its organisation's members see)."""

    document_id = StoredInteger(required=True, validate=AN_ID)


class MyPageQuery(Strict):
    cursor = fields.String(load_default=None, validate=validate.Length(max=512))
    limit = StoredInteger(load_default=50, validate=validate.Range(min=1, max=200, error=LIMIT))


MAX_QUESTIONS, MAX_OPTIONS = 100, 10
OPTION_INDEX = fields.Integer(strict=True, validate=validate.Range(min=0, max=MAX_OPTIONS - 1))


class QuestionSet(Strict):
    text = fields.String(required=True, validate=[validate.Length(min=1, max=2000), written_text], metadata=LINES)
    options = fields.List(
        fields.String(validate=[validate.Length(min=1, max=500), no_control_characters], metadata=ONE_LINE),
        required=True,
        validate=validate.Length(min=2, max=MAX_OPTIONS),
    )
    correct = fields.List(
        OPTION_INDEX,
        required=True,
        validate=[validate.Length(min=1, max=MAX_OPTIONS), distinct],
        metadata={"description": "the right options' indexes (one or more)", "uniqueItems": True},
    )


class QuizSet(Strict):
    questions = fields.List(
        fields.Nested(QuestionSet), required=True, validate=validate.Length(min=1, max=MAX_QUESTIONS)
    )
    pass_mark = fields.Float(
        required=True,
        validate=validate.Range(min=0, max=1),
        metadata={"description": "the fraction of questions to answer right (0–1)"},
    )
    max_attempts = fields.Integer(strict=True, load_default=3, validate=validate.Range(min=1, max=20))


class QuizAttempt(Strict):
    answers = fields.List(
        fields.List(OPTION_INDEX, validate=validate.Length(max=MAX_OPTIONS)),
        required=True,
        validate=validate.Length(min=1, max=MAX_QUESTIONS),
        metadata={"description": "for each question, in order, the indexes of the options chosen"},
    )


# Errors


class DocumentStateConflict(Conflict):
    code = "document_state"
    message = "Văn bản không ở trạng thái cho phép thao tác này. / The document is not in a state that allows this."


class AttemptsExhausted(Conflict):
    code = "attempts_exhausted"
    message = "Bạn đã dùng hết số lần làm bài. / You have used every attempt at this quiz."


class UnknownOrganization(ValidationError):
    """An audience names an organisation content has not heard of."""


# What the gateway answers (responses are dumped through these: the served document is what is sent)


class Attachment(Schema):
    n = fields.Integer(required=True)
    name = fields.String(required=True)
    content_type = fields.String(required=True)
    size = fields.Integer(required=True)


class DocumentSummary(Schema):
    """A document in a list: all of it but its body (GET /documents/{id} has it)."""

    id = fields.Integer(required=True)
    category = fields.String(required=True, validate=validate.OneOf(CATEGORIES))
    title = fields.String(required=True)
    summary = fields.String(required=True, allow_none=True)
    audience = fields.List(fields.Integer(), required=True)
    status = fields.String(required=True, validate=validate.OneOf(DOCUMENT_STATUSES))
    version = fields.Integer(required=True)
    publish_at = JsonDateTime(required=True, allow_none=True)
    published_at = JsonDateTime(required=True, allow_none=True)
    author_member_id = fields.Integer(required=True, allow_none=True)
    study = fields.Boolean(required=True)
    read = fields.Boolean(required=True)
    bookmarked = fields.Boolean(required=True)
    attachments = fields.List(fields.Nested(Attachment), required=True)
    created_at = JsonDateTime(required=True)
    updated_at = JsonDateTime(required=True)


class Document(DocumentSummary):
    body = fields.String(required=True, metadata={"description": "sanitised HTML (a small subset, no scripts)"})
    versions = fields.List(
        fields.Integer(), required=True, metadata={"description": "the versions an officer may read (else [])"}
    )


DocumentPage = page(DocumentSummary, "DocumentPage")


class UnreadCount(Schema):
    unread = fields.Integer(required=True)


class DocumentMarks(Schema):
    document_id = fields.Integer(required=True)
    read = fields.Boolean(required=True)
    bookmarked = fields.Boolean(required=True)


class Note(Schema):
    id = fields.Integer(required=True)
    title = fields.String(required=True)
    body = fields.String(required=True)
    document_id = fields.Integer(required=True, allow_none=True)
    meeting_id = fields.Integer(required=True, allow_none=True)
    created_at = JsonDateTime(required=True)
    updated_at = JsonDateTime(required=True)


NotePage = page(Note, "NotePage")


class Deleted(Schema):
    deleted = fields.Boolean(required=True)


class Question(Schema):
    text = fields.String(required=True)
    options = fields.List(fields.String(), required=True)
    multiple = fields.Boolean(
        required=True,
        metadata={"description": "true when more than one option is right (choose every right one), false for one"},
    )
    correct = fields.List(fields.Integer(), metadata={"description": "officers over the document only"})


class Quiz(Schema):
    document_id = fields.Integer(required=True)
    questions = fields.List(fields.Nested(Question), required=True)
    pass_mark = fields.Float(required=True)
    max_attempts = fields.Integer(required=True)
    attempts = fields.Integer(required=True, metadata={"description": "the caller's attempts so far"})
    best_score = fields.Float(required=True, allow_none=True)
    passed = fields.Boolean(required=True)


class AttemptResult(Schema):
    score = fields.Float(required=True, metadata={"description": "the fraction of questions answered right (0–1)"})
    passed = fields.Boolean(required=True)
    best_score = fields.Float(required=True)
    attempts_left = fields.Integer(required=True)


class StudyItem(Schema):
    document_id = fields.Integer(required=True)
    title = fields.String(required=True)
    read_at = JsonDateTime(required=True, allow_none=True)
    attempts = fields.Integer(required=True)
    best_score = fields.Float(required=True, allow_none=True)
    passed = fields.Boolean(required=True)


StudyPage = page(StudyItem, "StudyPage")
