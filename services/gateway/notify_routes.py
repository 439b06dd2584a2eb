"""The gateway's routes to a member's notifications (notify owns them).

A mixin of GatewayService (it brings `rpc` and `caller`).
"""
import re

from shared.contracts.notify import DeviceRegistration, PreferencesUpdate
from shared.errors import NotFound
from shared.http import api, read_json
from shared.validation import check


class NotifyRoutes:
    @api("GET", "/api/v1/me/notifications")
    def notifications(self, request):
        """Hộp thư của tôi / My inbox (newest first, cursor pages, unread count).
        ---
        get:
          tags: [notifications]
          security: [{bearer: []}]
          parameters:
            - {name: unread, in: query, schema: {type: boolean}}
            - {name: cursor, in: query, schema: {type: string}}
          responses:
            200: {description: "{items, next_cursor, unread}"}
        """
        self.caller.require()
        params = {k: v for k, v in request.args.items() if k in ("unread", "cursor", "limit")}
        return self.rpc.notify.list_inbox(params)

    @api("POST", "/api/v1/me/notifications/<notification_id>/read")
    def notification_read(self, request, notification_id):
        """Đánh dấu đã đọc (`all` cho tất cả) / Mark one read (`all` for every one).
        ---
        post:
          tags: [notifications]
          security: [{bearer: []}]
          parameters: [{name: notification_id, in: path, required: true, schema: {type: string}}]
          responses:
            200: {description: "{marked}"}
            404: {description: not_found, content: {application/json: {schema: Error}}}
        """
        self.caller.require()
        if notification_id == "all":
            return self.rpc.notify.mark_read(None)
        if not re.fullmatch(r"[0-9]{1,18}", notification_id):   # "²".isdigit() is True, int("²") is not
            raise NotFound()
        return self.rpc.notify.mark_read(int(notification_id))

    @api("GET,PUT", "/api/v1/me/notification-preferences")
    def notification_preferences(self, request):
        """Tuỳ chọn nhận tin / Which categories reach me on which channel (codes and security always do).
        ---
        get:
          tags: [notifications]
          security: [{bearer: []}]
          responses:
            200: {description: "{items: [{category, channel, enabled, mandatory}]}"}
        put:
          tags: [notifications]
          security: [{bearer: []}]
          requestBody: {required: true, content: {application/json: {schema: PreferencesUpdate}}}
          responses:
            200: {description: the preferences}
            400: {description: validation_error (e.g. switching security messages off), content: {application/json: {schema: Error}}}
        """
        self.caller.require()
        if request.method == "GET":
            return self.rpc.notify.get_preferences()
        return self.rpc.notify.set_preferences(check(PreferencesUpdate(), read_json(request)))

    @api("POST", "/api/v1/me/devices")
    def register_device(self, request):
        """Đăng ký thiết bị nhận thông báo / Register a device for push notifications.
        ---
        post:
          tags: [notifications]
          security: [{bearer: []}]
          requestBody: {required: true, content: {application/json: {schema: DeviceRegistration}}}
          responses:
            201: {description: registered}
        """
        self.caller.require()
        return 201, self.rpc.notify.register_device(check(DeviceRegistration(), read_json(request)))
