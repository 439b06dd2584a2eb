"""The routes that are more than an RPC: the import and attachment upload streams, attachment downloads and VNeID's
browser redirects."""

import json
import secrets
from datetime import datetime
from functools import lru_cache

import segno
from marshmallow import Schema, fields, validate
from werkzeug.wrappers import Response

from shared import blobs, config, metrics, registry, uploads
from shared.contracts.identity import TokenPair, VneidFailed
from shared.db import utcnow
from shared.downloads import blob_response
from shared.errors import ValidationError
from shared.http import NO_STORE, PRIVATE, json_response
from services.gateway import refresh_cookie, versions
from services.gateway.routing import QUERY, dump

TOO_LARGE = "Tệp quá 32 MiB: hãy dùng `make import`. / Over 32 MiB: use `make import`."
VNEID_COOKIE = "sotay_vneid"
ATTACHMENT = {
    "multipart/form-data": {
        "type": "object",
        "required": ["file"],
        "properties": {
            "file": {
                "type": "string",
                "format": "binary",
                "minLength": 1,
                "description": "PDF, DOCX, XLSX, PNG, JPEG, GIF or WebP, at most 50 MiB (judged by its bytes)",
            }
        },
    },
}
VNEID_PORTAL = "sotay_vneid_portal"  # the flow began in the web portal: come back to it, signed in by cookie
UPLOAD = {
    "text/csv": {"type": "string", "minLength": 1},
    "multipart/form-data": {
        "type": "object",
        "required": ["file"],
        "properties": {"file": {"type": "string", "format": "binary", "minLength": 1, "description": "CSV or XLSX"}},
    },
}


def start_import(service, route, request):
    service.rpc.members.may_import()  # before a byte of the body is read
    (dry_run,) = route.arguments(request, {})
    reference, filename = uploads.receive(request, TOO_LARGE)
    try:
        return service.rpc.members.start_import(reference, filename, dry_run)
    except BaseException:
        uploads.discard(reference)  # members deletes what it accepted; nothing else stays behind
        raise


class VneidAnswer(Schema):
    code = fields.String(required=True, validate=validate.Length(min=1))
    state = fields.String(required=True, validate=validate.Length(min=1))
    iss = fields.String(metadata={"description": "the issuer of the response (RFC 9207)"})
    error = fields.String(metadata={"description": "the provider's refusal (the member cancelled)"})


def vneid_login(service, route, request):
    secret = secrets.token_urlsafe(32)
    url = service.rpc.identity.vneid_begin(secret)["url"]
    response = Response(status=302, headers={"Location": url})
    flow = {"max_age": 600, "path": "/api/v1/auth/vneid", "httponly": True, "samesite": "Lax"}
    flow["secure"] = str(config.get("COOKIE_SECURE", "false")).lower() == "true"
    response.set_cookie(VNEID_COOKIE, secret, **flow)
    if request.args.get("portal") == "1":
        response.set_cookie(VNEID_PORTAL, "1", **flow)
    return response


def vneid_callback(service, route, request):
    if request.args.get("error"):
        raise VneidFailed(
            message="Đăng nhập VNeID đã bị huỷ hoặc từ chối. / VNeID sign-in was cancelled or refused.",
            details={"reason": request.args.get("error")[:64]},
        )
    code, state = request.args.get("code"), request.args.get("state")
    if not code or not state:
        raise ValidationError(details={key: ["required"] for key in ("code", "state") if not request.args.get(key)})
    tokens = service.rpc.identity.vneid_complete(
        state, code, request.cookies.get(VNEID_COOKIE, ""), iss=request.args.get("iss")
    )
    if request.cookies.get(VNEID_PORTAL) == "1":
        # back to the portal with the refresh token in its cookie; the page refreshes for an access token
        response = refresh_cookie.tokens_answer(tokens, True)
        response.status_code, response.headers["Location"] = 303, "/#/home"
        response.set_data(b"")
    else:
        response = json_response(dump(TokenPair, tokens))
    response.delete_cookie(VNEID_COOKIE, path="/api/v1/auth/vneid")
    response.delete_cookie(VNEID_PORTAL, path="/api/v1/auth/vneid")
    return response


def export_member(service, route, request):
    """Everything every service keeps about the caller, as one JSON file to download."""
    member_id = service.caller.require().member_id
    record = {
        "member_id": member_id,
        "exported_at": utcnow().isoformat(),
        "services": {
            name: getattr(service.rpc, name).export_member(member_id) for name in registry.keeping_personal_data()
        },
    }
    return Response(
        json.dumps(record, ensure_ascii=False, indent=2, default=str),
        content_type="application/json; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="sotay-{member_id}.json"', "Cache-Control": NO_STORE},
    )


def check_in_code(service, route, request, meeting_id):
    """The current check-in code with its QR code drawn here (segno), so the portal needs no encoder."""
    current = service.rpc.meetings.check_in_code(meeting_id)
    return {**current, "image": qr_image(current["qr"])}


@lru_cache(maxsize=2048)
def qr_image(content):
    """The QR code of `content` as an SVG data URI. Drawn once per code: choosing its mask is most of a code read's
    CPU (2 ms), and a screen asks again within the code's 30 s (the portal renews 2 s and 1 s before it expires,
    and is given the same code), as does any second screen of the meeting."""
    # medium error correction: a projector's glare or a cracked phone screen still scans
    return segno.make(content, error="m").svg_data_uri(scale=1, border=4, dark="#000", light="#fff")


def add_attachment(service, route, request, document_id):
    """A file for a document: the caller's right to edit it is asked before a byte is read; the bytes go into the
    blob store as they arrive; if content then refuses them, they are deleted: nothing is left behind."""
    service.rpc.content.may_attach(document_id)
    blob, filename = uploads.receive_blob(request)
    stored = {"key": blob.key, "size": blob.size, "sha256": blob.sha256, "content_type": blob.content_type}
    try:
        return service.rpc.content.add_attachment(document_id, stored, filename)
    except BaseException:
        blobs.store().delete(blob.key)
        raise


def attachment(service, route, request, document_id, n):
    """An attachment streamed from the blob store, resumable, for whoever content says may read the document."""
    return _stored(request, service.rpc.content.attachment(document_id, n))


def paper_attachment(service, route, request, meeting_id, document_id, n):
    """A meeting paper's attachment, for whoever meetings says sees the meeting (content serves it to meetings)."""
    return _stored(request, service.rpc.meetings.paper_attachment(meeting_id, document_id, n))


def _stored(request, found):
    blob = blobs.Blob(key=found["key"], size=found["size"], sha256=found["sha256"], content_type=found["content_type"])
    return blob_response(request, blob, found["name"])


def get_me(service, route, request):
    """The caller's record, or 304 when `If-None-Match` holds its current version: answered here, with no RPC, when
    this process knows that version (services/gateway/versions.py); the token was checked before (signature,
    expiry, ended session) and the version looked up is the token subject's own."""
    member_id = service.caller.require().member_id
    return _conditional(service, route, request, member_id, service.rpc.members.get_me, lambda answer: ())


def list_documents(service, route, request):
    """The caller's documents (any query), conditional as `get_me`: content's answer says which organisations'
    publications it shows (the caller's and those above), and content's events which organisations a publication
    or withdrawal is addressed to; the caller's own read receipts and bookmarks forget theirs (service.py)."""
    return _conditional_list(
        service,
        route,
        request,
        versions.DOCUMENTS,
        service.rpc.content.list_documents,
        lambda answer: [("organization", org_id) for org_id in answer.pop("reader_organizations", ())],
    )


def my_meetings(service, route, request):
    """The caller's meetings (any query), conditional as `get_me`: forgotten when meetings says a meeting they are
    invited to changed (their member id), or one of an organisation whose meetings the answer shows (by
    organisation, not by meeting: a tag or two a version whatever the page's size; the lists forgotten with it are
    that organisation's members')."""
    return _conditional_list(
        service,
        route,
        request,
        versions.MEETINGS,
        service.rpc.meetings.my_meetings,
        lambda answer: {("meetings of", item["organization_id"]) for item in answer["items"]},
    )


def get_meeting(service, route, request, meeting_id):
    """One meeting as the caller sees it (their answer, their check-in: the key is theirs), conditional as
    `get_me`: forgotten on any event of its organisation's meetings (an answer or a check-in changes its counts,
    whoever gave it; the agenda, the time, opened, closed, cancelled, an invitation taken away) and, with the
    meeting list, on any of meetings' events not understood. meetings versions only an invitee's answer: an
    officer's access follows their positions, which it announces to nobody, so theirs is asked every time."""
    member_id = service.caller.require().member_id
    return _conditional(
        service,
        route,
        request,
        (member_id, versions.MEETING, meeting_id),
        lambda: service.rpc.meetings.get_meeting(meeting_id),
        lambda answer: [versions.MEETINGS, ("meetings of", answer["organization_id"])],
    )


def _conditional_list(service, route, request, name, call, tags_of):
    member_id = service.caller.require().member_id
    query = route.sent(request, QUERY)  # as the owning service is sent it: unknown parameters are not
    key = (member_id, name, tuple(sorted(query.items())))

    def tags(answer):
        return [name, *tags_of(answer)]  # `name`: an event of the owner's not understood forgets the list

    return _conditional(service, route, request, key, lambda: call(*route.arguments(request, {})), tags)


def _conditional(service, route, request, key, call, tags_of):
    """The owning service's answer with its version as a weak ETag, or 304 for an `If-None-Match` holding the
    version known here (no RPC), or the one just answered."""
    asked = request.if_none_match
    known = service.versions.current(key)
    if known is not None and asked.contains_weak(known):
        metrics.CONDITIONAL_READS.labels(route.path, "304_at_gateway").inc()
        return _not_modified(known)
    mark = service.versions.mark()
    answer = call()
    version = answer.pop("version", None)
    holds_until = answer.pop("holds_until", None)
    tags = tags_of(answer)
    if version is None:  # an answer without a version: as any other route's
        return answer
    if holds_until is None or holds_until:  # "": the answer holds for no time at all (nothing learnt)
        holds_for = None if holds_until is None else (datetime.fromisoformat(holds_until) - utcnow()).total_seconds()
        service.versions.learn(key, version, mark, tags=tags, holds_for=holds_for)
    if asked.contains_weak(version):
        metrics.CONDITIONAL_READS.labels(route.path, "304_after_rpc").inc()
        return _not_modified(version)
    metrics.CONDITIONAL_READS.labels(route.path, "200").inc()
    return json_response(dump(route.answers[200], answer), headers=_validators(version))


def _validators(version):
    # weak: the same meaning, whatever the bytes (key order, compression); no-cache: revalidate before each use
    return {"ETag": f'W/"{version}"', "Cache-Control": PRIVATE}


def _not_modified(version):
    return Response(status=304, headers=_validators(version))
