"""The gateway's routes to the party member database (members owns every decision).

A mixin of GatewayService (it brings `rpc` and `caller`).
"""
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.formparser import parse_form_data

from shared import uploads
from shared.contracts.members import (MemberCreate, MemberUpdate, MeUpdate, OrganizationCreate, OrganizationUpdate,
                                      PositionChange, RecordCreate, TransferRequest)
from shared.errors import PayloadTooLarge, ValidationError
from shared.http import api, read_json
from shared.validation import check, load
from services.gateway.schemas import Decision, MergeRequest, RolloutChange

TOO_LARGE = "Tệp quá 32 MiB: hãy dùng `make import`. / Over 32 MiB: use `make import`."
CHUNK = 64 * 1024


def receive_import(request):
    """The upload streamed into the import directory (never whole in memory, the limit counted as it
    arrives): (reference, filename). A CSV body, or the multipart field `file`."""
    created = []

    def new_file(*_, **__):
        reference, handle = uploads.create()
        created.append((reference, handle))
        return handle

    try:
        if request.mimetype == "multipart/form-data":
            _, _, files = parse_form_data(request.environ, stream_factory=new_file, silent=False,
                                          max_content_length=uploads.MAX_IMPORT_BYTES,
                                          max_form_memory_size=CHUNK, max_form_parts=16)
            upload = files.get("file")
            kept = next((ref for ref, handle in created if upload is not None and handle is upload.stream), None)
            if kept is None:
                raise ValidationError(details={"file": ["required"]})
            filename = upload.filename or ""
        else:
            handle = new_file()
            kept = created[-1][0]
            filename, received = "upload.csv", 0
            request.max_content_length = uploads.MAX_IMPORT_BYTES
            while chunk := request.stream.read(CHUNK):
                received += len(chunk)
                if received > uploads.MAX_IMPORT_BYTES:
                    raise RequestEntityTooLarge()
                handle.write(chunk)
    except RequestEntityTooLarge:
        _discard(created)
        raise PayloadTooLarge(message=TOO_LARGE) from None
    except (HTTPException, ValueError):   # a malformed multipart body
        _discard(created)
        raise ValidationError(details={"file": ["Dữ liệu multipart hỏng. / A malformed multipart body."]}) from None
    except BaseException:
        _discard(created)
        raise
    for reference, handle in created:
        handle.close()
        if reference != kept:
            uploads.discard(reference)
    return kept, filename


def _discard(created):
    for reference, handle in created:
        handle.close()
        uploads.discard(reference)


class MemberRoutes:
    @api("GET", "/api/v1/me")
    def me(self, request):
        """Hồ sơ của tôi / My member record.
        ---
        get:
          tags: [members]
          security: [{bearer: []}]
          responses:
            200: {description: the caller's member record, content: {application/json: {schema: MemberOut}}}
            401: {description: unauthenticated / invalid_token, content: {application/json: {schema: Error}}}
        """
        self.caller.require()
        return self.rpc.members.get_me()

    @api("GET", "/api/v1/organizations/<int:organization_id>")
    def organization(self, request, organization_id):
        """Một tổ chức đảng / One party organisation.
        ---
        get:
          tags: [members]
          security: [{bearer: []}]
          parameters: [{name: organization_id, in: path, required: true, schema: {type: integer}}]
          responses:
            200: {description: the organisation, content: {application/json: {schema: OrganizationOut}}}
            401: {description: unauthenticated, content: {application/json: {schema: Error}}}
            404: {description: not_found (or not visible to the caller), content: {application/json: {schema: Error}}}
        """
        self.caller.require()
        return self.rpc.members.get_organization(organization_id)

    @api("GET", "/api/v1/organizations/<int:organization_id>/children")
    def organization_children(self, request, organization_id):
        """Các tổ chức trực thuộc / The organisations directly below one.
        ---
        get:
          tags: [members]
          security: [{bearer: []}]
          parameters: [{name: organization_id, in: path, required: true, schema: {type: integer}}]
          responses:
            200: {description: a page of organisations, content: {application/json: {schema: OrganizationPage}}}
            401: {description: unauthenticated, content: {application/json: {schema: Error}}}
            404: {description: not_found, content: {application/json: {schema: Error}}}
        """
        self.caller.require()
        return self.rpc.members.list_children(organization_id)

    @api("GET", "/api/v1/organizations/<int:organization_id>/members")
    def organization_members(self, request, organization_id):
        """Đảng viên của tổ chức / Members of an organisation's subtree (search, cursor pages).
        ---
        get:
          tags: [members]
          security: [{bearer: []}]
          description: >
            Officers get the records of their subtree; `q` is a name (diacritics and case ignored, `nguyen van an`
            finds `Nguyễn Văn An`), a citizen ID or a party card number. A member gets `{id, full_name, positions}`
            of their own branch's current members (probationary, official), and `q` is always a name.
          parameters:
            - {name: organization_id, in: path, required: true, schema: {type: integer}}
            - {name: q, in: query, schema: {type: string}}
            - {name: status, in: query, schema: {type: string}}
            - {name: cursor, in: query, schema: {type: string}}
            - {name: limit, in: query, schema: {type: integer, maximum: 200}}
          responses:
            200: {description: a page, content: {application/json: {schema: MemberPage}}}
            404: {description: not_found (or not visible), content: {application/json: {schema: Error}}}
        """
        self.caller.require()
        params = {k: v for k, v in request.args.items() if k in ("q", "status", "cursor", "limit")}
        return self.rpc.members.list_members(organization_id, params)

    @api("GET", "/api/v1/organizations/<int:organization_id>/stats")
    def organization_stats(self, request, organization_id):
        """Số liệu của cấp uỷ / A committee's figures: members by status, gender, age band, and uptake.
        ---
        get:
          tags: [members]
          security: [{bearer: []}]
          parameters: [{name: organization_id, in: path, required: true, schema: {type: integer}}]
          responses:
            200: {description: figures for the whole subtree, content: {application/json: {schema: Stats}}}
            404: {description: not_found (or not the caller's scope), content: {application/json: {schema: Error}}}
        """
        self.caller.require()
        return self.rpc.members.organization_stats(organization_id)

    @api("POST", "/api/v1/organizations/<int:organization_id>/children")
    def create_organization(self, request, organization_id):
        """Lập tổ chức trực thuộc / Create an organisation below this one.
        ---
        post:
          tags: [members]
          security: [{bearer: []}]
          parameters: [{name: organization_id, in: path, required: true, schema: {type: integer}}]
          requestBody: {required: true, content: {application/json: {schema: OrganizationCreate}}}
          responses:
            201: {description: created, content: {application/json: {schema: OrganizationOut}}}
        """
        self.caller.require()
        return 201, self.rpc.members.create_organization(organization_id, check(OrganizationCreate(), read_json(request)))

    @api("PATCH", "/api/v1/organizations/<int:organization_id>")
    def update_organization(self, request, organization_id):
        """Đổi tên hoặc chuyển tổ chức / Rename an organisation or move it under another parent.
        ---
        patch:
          tags: [members]
          security: [{bearer: []}]
          parameters: [{name: organization_id, in: path, required: true, schema: {type: integer}}]
          requestBody: {required: true, content: {application/json: {schema: OrganizationUpdate}}}
          responses:
            200: {description: the organisation, content: {application/json: {schema: OrganizationOut}}}
        """
        self.caller.require()
        return self.rpc.members.update_organization(organization_id, check(OrganizationUpdate(), read_json(request)))

    @api("POST", "/api/v1/organizations/<int:organization_id>/merge")
    def merge_organization(self, request, organization_id):
        """Hợp nhất tổ chức / Dissolve this organisation into another of its level.
        ---
        post:
          tags: [members]
          security: [{bearer: []}]
          parameters: [{name: organization_id, in: path, required: true, schema: {type: integer}}]
          requestBody: {required: true, content: {application/json: {schema: MergeRequest}}}
          responses:
            200: {description: the organisation that took over, content: {application/json: {schema: OrganizationOut}}}
        """
        self.caller.require()
        return self.rpc.members.merge_organization(organization_id, load(MergeRequest(), read_json(request))["into"])

    @api("PUT", "/api/v1/organizations/<int:organization_id>/rollout")
    def rollout(self, request, organization_id):
        """Triển khai Sổ tay cho cấp uỷ / Switch a committee to disabled, pilot or live (system administrators).
        ---
        put:
          tags: [members]
          security: [{bearer: []}]
          parameters: [{name: organization_id, in: path, required: true, schema: {type: integer}}]
          requestBody: {required: true, content: {application/json: {schema: RolloutChange}}}
          responses:
            200: {description: the organisation, content: {application/json: {schema: OrganizationOut}}}
            403: {description: forbidden, content: {application/json: {schema: Error}}}
        """
        self.caller.require()
        return self.rpc.members.set_rollout(organization_id, load(RolloutChange(), read_json(request))["state"])

    @api("POST", "/api/v1/members")
    def create_member(self, request):
        """Thêm đảng viên / Add a member (officers, in their subtree).
        ---
        post:
          tags: [members]
          security: [{bearer: []}]
          description: >
            A citizen ID or party card number already held by a member of the officer's subtree is a 409. One
            held outside it is not confirmed: the registration waits for a system administrator (202
            `pending_review`); a few of those a day per officer, then 429 for every registration until the next day.
          requestBody: {required: true, content: {application/json: {schema: MemberCreate}}}
          responses:
            201: {description: created, content: {application/json: {schema: MemberOut}}}
            202: {description: "pending_review: {status, registration_id, message}"}
            400: {description: validation_error, content: {application/json: {schema: Error}}}
            409: {description: conflict (the field is named in details), content: {application/json: {schema: Error}}}
            429: {description: too_many_attempts (Retry-After), content: {application/json: {schema: Error}}}
        """
        self.caller.require()
        answer = self.rpc.members.create_member(check(MemberCreate(), read_json(request)))
        return (202 if answer.get("status") == "pending_review" else 201), answer

    @api("GET", "/api/v1/member-registrations")
    def member_registrations(self, request):
        """Hồ sơ chờ xem xét / Registrations waiting for a system administrator's review.
        ---
        get:
          tags: [members]
          security: [{bearer: []}]
          responses:
            200: {description: "pending registrations, each with the member it clashes with where they are now"}
            403: {description: forbidden (system administrators only), content: {application/json: {schema: Error}}}
        """
        self.caller.require()
        return self.rpc.members.pending_registrations()

    @api("POST", "/api/v1/member-registrations/<int:registration_id>/close")
    def close_member_registration(self, request, registration_id):
        """Đóng hồ sơ chờ xem xét / Close a registration waiting for review (system administrators).
        ---
        post:
          tags: [members]
          security: [{bearer: []}]
          parameters: [{name: registration_id, in: path, required: true, schema: {type: integer}}]
          requestBody: {content: {application/json: {schema: Decision}}}
          responses:
            200: {description: "the closed registration: {id, status, reason}"}
            403: {description: forbidden (system administrators only), content: {application/json: {schema: Error}}}
            404: {description: not_found, content: {application/json: {schema: Error}}}
        """
        self.caller.require()
        body = load(Decision(), read_json(request)) if request.get_data() else {"reason": None}
        return self.rpc.members.close_registration(registration_id, body["reason"])

    @api("GET", "/api/v1/members/<int:member_id>")
    def get_member(self, request, member_id):
        """Hồ sơ đảng viên / A member's record (themselves, or officers of their subtree).
        ---
        get:
          tags: [members]
          security: [{bearer: []}]
          parameters: [{name: member_id, in: path, required: true, schema: {type: integer}}]
          responses:
            200: {description: the record, content: {application/json: {schema: MemberOut}}}
            404: {description: not_found (or not visible), content: {application/json: {schema: Error}}}
        """
        self.caller.require()
        return self.rpc.members.get_member(member_id)

    @api("PATCH", "/api/v1/members/<int:member_id>")
    def update_member(self, request, member_id):
        """Sửa hồ sơ đảng viên / Change a member's record (officers); leaving states need their date and reason.
        ---
        patch:
          tags: [members]
          security: [{bearer: []}]
          parameters: [{name: member_id, in: path, required: true, schema: {type: integer}}]
          requestBody: {required: true, content: {application/json: {schema: MemberUpdate}}}
          responses:
            200: {description: the record, content: {application/json: {schema: MemberOut}}}
        """
        self.caller.require()
        return self.rpc.members.update_member(member_id, check(MemberUpdate(), read_json(request)))

    @api("PATCH", "/api/v1/me")
    def update_me(self, request):
        """Cập nhật thông tin của tôi / Change my data: contact at once, core data by request to the secretary.
        ---
        patch:
          tags: [members]
          security: [{bearer: []}]
          requestBody: {required: true, content: {application/json: {schema: MeUpdate}}}
          responses:
            200: {description: "{member, change_request}"}
        """
        self.caller.require()
        return self.rpc.members.update_me(check(MeUpdate(), read_json(request)))

    @api("GET", "/api/v1/change-requests")
    def change_requests(self, request):
        """Yêu cầu sửa hồ sơ chờ duyệt / Change requests waiting for this secretary.
        ---
        get:
          tags: [members]
          security: [{bearer: []}]
          responses:
            200: {description: pending requests}
        """
        self.caller.require()
        return self.rpc.members.change_requests()

    @api("POST", "/api/v1/change-requests/<int:request_id>/<any(approve, reject):decision>")
    def decide_change_request(self, request, request_id, decision):
        """Duyệt hoặc từ chối yêu cầu sửa hồ sơ / Approve or reject a change request.
        ---
        post:
          tags: [members]
          security: [{bearer: []}]
          parameters:
            - {name: request_id, in: path, required: true, schema: {type: integer}}
            - {name: decision, in: path, required: true, schema: {type: string, enum: [approve, reject]}}
          requestBody: {content: {application/json: {schema: Decision}}}
          responses:
            200: {description: the decided request}
        """
        self.caller.require()
        body = load(Decision(), read_json(request)) if request.get_data() else {"reason": None}
        return self.rpc.members.decide_change_request(request_id, decision == "approve", body["reason"])

    @api("POST", "/api/v1/members/<int:member_id>/transfers")
    def issue_transfer(self, request, member_id):
        """Chuyển sinh hoạt đảng / Issue a transfer (official or temporary) to another organisation.
        ---
        post:
          tags: [members]
          security: [{bearer: []}]
          parameters: [{name: member_id, in: path, required: true, schema: {type: integer}}]
          requestBody: {required: true, content: {application/json: {schema: TransferRequest}}}
          responses:
            201: {description: issued}
        """
        self.caller.require()
        return 201, self.rpc.members.issue_transfer(member_id, check(TransferRequest(), read_json(request)))

    @api("GET", "/api/v1/transfers/incoming")
    def incoming_transfers(self, request):
        """Giấy chuyển đến chờ tiếp nhận / Transfers waiting for this organisation to accept.
        ---
        get:
          tags: [members]
          security: [{bearer: []}]
          responses:
            200: {description: issued transfers into the caller's scope}
        """
        self.caller.require()
        return self.rpc.members.incoming_transfers()

    @api("POST", "/api/v1/transfers/<int:transfer_id>/accept")
    def accept_transfer(self, request, transfer_id):
        """Tiếp nhận đảng viên chuyển đến / Accept a transfer: the member's organisation changes.
        ---
        post:
          tags: [members]
          security: [{bearer: []}]
          parameters: [{name: transfer_id, in: path, required: true, schema: {type: integer}}]
          responses:
            200: {description: accepted}
        """
        self.caller.require()
        return self.rpc.members.accept_transfer(transfer_id)

    @api("POST,DELETE", "/api/v1/members/<int:member_id>/positions")
    def positions(self, request, member_id):
        """Bổ nhiệm hoặc thôi chức vụ / Appoint to a position or end one (officers, within their subtree).
        ---
        post:
          tags: [members]
          security: [{bearer: []}]
          parameters: [{name: member_id, in: path, required: true, schema: {type: integer}}]
          requestBody: {required: true, content: {application/json: {schema: PositionChange}}}
          responses:
            200: {description: the member with their positions, content: {application/json: {schema: MemberOut}}}
        delete:
          tags: [members]
          security: [{bearer: []}]
          parameters: [{name: member_id, in: path, required: true, schema: {type: integer}}]
          requestBody: {required: true, content: {application/json: {schema: PositionChange}}}
          responses:
            200: {description: the member with their positions, content: {application/json: {schema: MemberOut}}}
        """
        self.caller.require()
        return self.rpc.members.change_position(member_id, check(PositionChange(), read_json(request)),
                                                request.method == "POST")

    @api("GET,POST", "/api/v1/members/<int:member_id>/records")
    def records(self, request, member_id):
        """Hồ sơ điện tử: quá trình công tác, khen thưởng, kỷ luật / The digital file.
        ---
        get:
          tags: [members]
          security: [{bearer: []}]
          parameters: [{name: member_id, in: path, required: true, schema: {type: integer}}]
          responses:
            200: {description: the entries}
        post:
          tags: [members]
          security: [{bearer: []}]
          parameters: [{name: member_id, in: path, required: true, schema: {type: integer}}]
          requestBody: {required: true, content: {application/json: {schema: RecordCreate}}}
          responses:
            201: {description: added}
        """
        self.caller.require()
        if request.method == "GET":
            return self.rpc.members.list_records(member_id)
        return 201, self.rpc.members.add_record(member_id, check(RecordCreate(), read_json(request)))

    @api("POST", "/api/v1/imports", accepts=("text/csv", "multipart/form-data"))
    def start_import(self, request):
        """Nhập dữ liệu đảng viên / Import the Party member database export (system administrators).
        ---
        post:
          tags: [members]
          security: [{bearer: []}]
          description: >
            A `text/csv` body, or `multipart/form-data` with a `file` (CSV or XLSX), at most 32 MiB (the CLI
            `make import FILE=…` takes any size). `?dry_run=true` validates only. Runs in the background.
            Whether the caller may import is decided before the body is read.
          parameters: [{name: dry_run, in: query, schema: {type: boolean}}]
          responses:
            202: {description: started, content: {application/json: {schema: ImportJob}}}
            400: {description: validation_error, content: {application/json: {schema: Error}}}
            403: {description: forbidden, content: {application/json: {schema: Error}}}
            413: {description: payload_too_large, content: {application/json: {schema: Error}}}
        """
        self.caller.require()
        self.rpc.members.may_import()   # before a byte of the body is read
        dry_run = request.args.get("dry_run", "false").lower() in ("1", "true", "yes")
        reference, filename = receive_import(request)
        try:
            return 202, self.rpc.members.start_import(reference, filename, dry_run)
        except BaseException:
            uploads.discard(reference)   # members deletes what it accepted; nothing else stays behind
            raise

    @api("GET", "/api/v1/imports/<job_id>")
    def import_status(self, request, job_id):
        """Tiến độ nhập dữ liệu / Where an import stands.
        ---
        get:
          tags: [members]
          security: [{bearer: []}]
          parameters: [{name: job_id, in: path, required: true, schema: {type: string}}]
          responses:
            200: {description: the job, content: {application/json: {schema: ImportJob}}}
        """
        self.caller.require()
        return self.rpc.members.import_status(job_id)
