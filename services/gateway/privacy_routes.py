"""The gateway's routes to a member's data across services: their export, an administrator's erasure.

A mixin of GatewayService (it brings `rpc` and `caller`). Each service that keeps personal data answers
`export_member` for the member themselves (through the gateway only) and erases when members orders it.
"""
import json

from werkzeug.wrappers import Response

from shared.contracts.members import ErasureRequest
from shared.db import utcnow
from shared.http import NO_STORE, api, read_json
from shared.validation import check

KEEP_PERSONAL_DATA = ("members", "identity", "notify")


class PrivacyRoutes:
    @api("GET", "/api/v1/me/export")
    def export(self, request):
        """Tải về toàn bộ dữ liệu của tôi / Download everything every service keeps about me (one JSON file).
        ---
        get:
          tags: [members]
          security: [{bearer: []}]
          responses:
            200:
              description: "{member_id, exported_at, services: {members, identity, notify}}, as an attachment"
              headers:
                Content-Disposition: {schema: {type: string}, description: attachment; filename="sotay-….json"}
              content: {application/json: {schema: {type: object}}}
            401: {description: unauthenticated / invalid_token, content: {application/json: {schema: Error}}}
        """
        member_id = self.caller.require().member_id
        record = {"member_id": member_id, "exported_at": utcnow().isoformat(),
                  "services": {name: getattr(self.rpc, name).export_member(member_id) for name in KEEP_PERSONAL_DATA}}
        return Response(json.dumps(record, ensure_ascii=False, indent=2, default=str),
                        content_type="application/json; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="sotay-{member_id}.json"',
                                 "Cache-Control": NO_STORE})

    @api("POST", "/api/v1/members/<int:member_id>/erasure")
    def erasure(self, request, member_id):
        """Xoá dữ liệu cá nhân của một đảng viên / Erase a member's personal data in every service (system
        administrators, with a reason; never one's own).
        ---
        post:
          tags: [members]
          security: [{bearer: []}]
          description: >
            members keeps a pseudonymous tombstone (figures and history stay consistent); identity, notify and
            members each record who asked, when and why. The answer says how many of what went, never what.
          parameters: [{name: member_id, in: path, required: true, schema: {type: integer}}]
          requestBody: {required: true, content: {application/json: {schema: ErasureRequest}}}
          responses:
            200: {description: "{member_id, status: erased, erased_at, erased: {service: {what: how many}}}"}
            400: {description: validation_error (a reason is required), content: {application/json: {schema: Error}}}
            401: {description: unauthenticated, content: {application/json: {schema: Error}}}
            403: {description: "forbidden: not a system administrator, or oneself",
                  content: {application/json: {schema: Error}}}
            404: {description: not_found, content: {application/json: {schema: Error}}}
        """
        self.caller.require()
        return self.rpc.members.erase_member(member_id, check(ErasureRequest(), read_json(request)))
