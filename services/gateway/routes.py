"""The gateway's routes: each is an RPC of the service that owns the data, its schemas and the errors it answers.
The owning service decides what the caller may do; the gateway checks the request's form and the token."""

from marshmallow import fields

from shared.contracts import content as c, identity as i, meetings as mt, members as m, notify as n
from shared.errors import (
    Conflict,
    Forbidden,
    InvalidToken,
    NotFound,
    PayloadTooLarge,
    TooManyAttempts,
    UnsupportedMediaType,
    ValidationError,
)
from services.gateway import handlers, refresh_cookie as cookie
from services.gateway.reports import Count, Rate, Report
from services.gateway.routing import BODY, QUERY, Route, parameters

# a table: a route to a few lines, easier to read and to review than the formatter's one value a line
# fmt: off
CODE_ERRORS = (i.InvalidCode, i.CodeExpired, i.WeakPassword, i.PendingApproval, NotFound)
DECIDED = (Forbidden, NotFound, ValidationError)  # not the caller's to decide, or decided already


def decisions(path, call, summary, answer, verbs=("approve", "deny"), args=(), **options):
    """A yes and a no on one request: two routes, `…/approve` and `…/deny` (or reject)."""
    key = parameters(path)[-1][0]
    return [Route("POST", f"{path}/{verb}", summary, call, (key, verb == verbs[0], *args),
                  answers={200: answer}, name=f"{verb}_{call.split('.')[1].removeprefix('decide_')}", **options)
            for verb in verbs]


SIGN_IN = [
    Route("POST", "/auth/login", "Đăng nhập bằng số định danh và mật khẩu / Sign in with citizen ID and password",
          cookie.signing_in("identity.login"), (BODY,), body=i.LoginRequest, answers={200: i.TokenPair},
          public=True, throttle=True, errors=(i.InvalidCredentials, i.AccountFrozen, i.NotRolledOut),
          description="`invalid_credentials` is the same answer whether the account does not exist, was never "
                      "activated (first sign-in starts at /auth/activation) or the password is wrong. "
                      + cookie.DESCRIPTION),
    Route("POST", "/auth/refresh", "Đổi refresh token lấy cặp token mới / Rotate a refresh token", cookie.refresh,
          (BODY,), body=i.RefreshRequest, answers={200: i.TokenPair}, public=True, errors=(InvalidToken,),
          optional_body=True,
          description="The old refresh token is spent; re-using a spent one revokes its whole family. "
                      f"The body is left out in cookie mode (`{cookie.MODE_HEADER}: cookie`, the token in the "
                      "cookie that sign-in set; the new one replaces it)."),
    Route("POST", "/auth/logout", "Đăng xuất (thu hồi phiên) / Sign out (revokes this session)", cookie.logout,
          answers={200: i.Outcome}, description="Also clears the refresh cookie of cookie mode."),
    Route("POST", "/auth/activation", "Kích hoạt tài khoản lần đầu: gửi mã qua SMS / First sign-in: a code by SMS",
          "identity.start_activation", (BODY,), body=i.CodeRequest, answers={202: i.CodeAnswer}, public=True,
          throttle=True,
          description="The code goes to the member's trusted phone (imported from the party member database, or one "
                      "a code reached). Another phone waits for an officer of the member's organisation (a system "
                      "administrator for position holders): `pending_approval`. Whoever asks, member or not, gets "
                      "an answer of the same form; nothing is sent for an unknown citizen ID."),
    Route("GET", "/auth/activation/<activation_id>", "Trạng thái yêu cầu kích hoạt / Where an activation stands",
          "identity.challenge_status", ("activation_id",), answers={200: i.CodeAnswer}, public=True),
    Route("POST", "/auth/activation/<activation_id>/verify", "Nhập mã và đặt mật khẩu / Enter the code, choose a "
          "password", cookie.signing_in("identity.verify_activation"), ("activation_id", BODY),
          body=i.CodeVerification, answers={200: i.TokenPair}, public=True, throttle=True, errors=CODE_ERRORS,
          description=cookie.DESCRIPTION),
    Route("GET", "/auth/password-policy", "Yêu cầu đối với mật khẩu mới / What a new password must be",
          "identity.password_policy", answers={200: i.PasswordPolicy}, public=True),
    Route("POST", "/auth/password/forgot", "Quên mật khẩu: gửi mã tới số điện thoại đã xác minh / Forgotten password: "
          "a code to the trusted phone", "identity.start_password_reset", (BODY,), body=i.CodeRequest,
          answers={202: i.CodeAnswer}, public=True, throttle=True,
          description="Like activation. The phone and e-mail trusted before are told, with a \"not me\" code."),
    Route("POST", "/auth/password/forgot/<activation_id>/verify", "Nhập mã và đặt mật khẩu mới / Enter the code, "
          "choose a new password (ends every session)", cookie.signing_in("identity.verify_password_reset"),
          ("activation_id", BODY), body=i.CodeVerification, answers={200: i.TokenPair}, public=True, throttle=True,
          errors=CODE_ERRORS, description=cookie.DESCRIPTION),
    Route("POST", "/auth/password", "Đổi mật khẩu (đăng xuất các phiên khác) / Change the password (signs out the "
          "other sessions)", "identity.change_password", (BODY,), body=i.PasswordChange, answers={200: i.Outcome},
          throttle=True, errors=(i.InvalidCredentials, i.WeakPassword)),
    Route("GET", "/me/sessions", "Các phiên đăng nhập của tôi / My signed-in sessions", "identity.list_sessions",
          answers={200: i.SessionPage}),
    Route("DELETE", "/me/sessions/<session_id>", "Đăng xuất một phiên / Sign one session out",
          "identity.revoke_session", ("session_id",), answers={200: i.Outcome}, errors=(NotFound,)),
    Route("GET", "/auth/phone-requests", "Số điện thoại chờ chi bộ xác nhận / Phones waiting for an officer",
          "identity.pending_phone_requests", answers={200: i.PhoneRequestPage},
          description="Members without any position in the officer's organisation or below, never the officer's "
                      "own (position holders recover through /auth/recovery-requests)."),
    *decisions("/auth/phone-requests/<request_id>", "identity.decide_phone_request", "Xác nhận hoặc từ chối số điện "
               "thoại / Confirm the phone (the code goes to it) or refuse it", i.Outcome, errors=DECIDED),
    Route("GET", "/auth/recovery-requests", "Khôi phục tài khoản có chức vụ / Recovery of position holders' accounts",
          "identity.recovery_requests", answers={200: i.PhoneRequestPage}, errors=(Forbidden,),
          description="A system administrator confirms a new phone for an account holding a position, never an "
                      "officer, never the requester."),
    *decisions("/auth/recovery-requests/<request_id>", "identity.decide_recovery_request", "Quản trị hệ thống xác "
               "nhận hoặc từ chối / A system administrator confirms or refuses the phone", i.Outcome, errors=DECIDED),
    Route("POST", "/auth/freeze", "\"Không phải tôi\": khoá tài khoản / \"Not me\": freeze the account",
          "identity.freeze", (BODY,), body=i.FreezeRequest, answers={200: i.Outcome}, public=True, throttle=True,
          errors=(i.InvalidCode,),
          description="The code of a security notice. Every session ends; sign-in and resets are refused until an "
                      "officer (position holders: a system administrator) releases the account."),
    Route("GET", "/auth/frozen-accounts", "Tài khoản đang tạm khoá / Frozen accounts waiting for review",
          "identity.frozen_accounts", answers={200: i.FrozenAccountPage}),
    Route("POST", "/auth/frozen-accounts/<int:member_id>/release", "Mở lại tài khoản đã khoá / Release a frozen "
          "account", "identity.release_account", ("member_id",), answers={200: i.Outcome}),
    Route("POST", "/me/phone-verification", "Xác minh số điện thoại mới / Confirm a new phone: a code goes to it",
          "identity.start_phone_verification", (BODY,), body=i.PhoneVerificationRequest, optional_body=True,
          answers={202: i.PhoneVerificationAnswer}, throttle=True,
          description="Without `phone`, the phone in the member record. Codes go to it once its code and the "
                      "current password are entered."),
    Route("POST", "/me/phone-verification/<verification_id>/verify", "Nhập mã và mật khẩu hiện tại / Enter the code "
          "and the current password", "identity.confirm_phone_verification", ("verification_id", BODY),
          body=i.PhoneVerificationConfirm, answers={200: i.Outcome}, throttle=True,
          errors=(i.InvalidCode, i.CodeExpired, i.InvalidCredentials, NotFound)),
    Route("GET", "/auth/vneid/login", "Đăng nhập bằng VNeID / Sign in with VNeID (redirects to VNeID)",
          handlers.vneid_login, answers={302: None}, public=True, throttle=True,
          description="OpenID Connect with PKCE, state and nonce; a short-lived HttpOnly cookie binds the flow to "
                      "the browser, the callback must come from the same browser. `?portal=1` (the web portal): "
                      "the callback answers 303 to the portal with the refresh token in cookie mode's cookie."),
    Route("GET", "/auth/vneid/callback", "VNeID trả về: kiểm tra và đăng nhập / Back from VNeID: signs in",
          handlers.vneid_callback, query=handlers.VneidAnswer, answers={200: i.TokenPair, 303: None}, public=True,
          throttle=True,
          errors=(i.VneidFailed, i.NotAMember, i.NotRolledOut)),
    Route("GET", "/.well-known/jwks.json", "Khoá công khai kiểm chữ ký token / Keys that verify access tokens",
          "identity.jwks", answers={200: i.Jwks}, public=True),
]

UPTAKE = Report("UptakeReport", "uptake", "Kích hoạt Sổ tay / Sổ tay uptake", columns=(
    Count("in_party", "Đảng viên / Members"), Count("activated", "Đã kích hoạt / Signed in"),
    Rate("rate", "activated", "in_party", "Tỉ lệ / Rate")))
ATTENDANCE = Report("AttendanceReport", "attendance", "Chuyên cần sinh hoạt / Meeting attendance",
                    about={"month": ("Kỳ / Period", fields.String(required=True, metadata={
                        "description": "the month (YYYY-MM), or the year (YYYY) when `year` was asked"}))},
                    columns=(Count("meetings", "Cuộc họp / Meetings held"), Count("invited", "Lượt mời / Invited"),
                             Count("attended", "Lượt dự / Attended"), Rate("rate", "attended", "invited",
                                                                             "Tỉ lệ / Rate")))

CONDITIONAL = ("With `ETag` (weak) and `Cache-Control: private, no-cache`: send it back in `If-None-Match` and an "
               "unchanged answer is a 304 without a body.")
MEMBERS = [
    Route("GET", "/me", "Hồ sơ của tôi / My member record", handlers.get_me, answers={200: m.Member, 304: None},
          description=CONDITIONAL),
    Route("GET", "/me/export", "Tải về toàn bộ dữ liệu của tôi / Download everything every service keeps about me",
          handlers.export_member, answers={200: None}, name="export_me",
          description="One JSON file (`Content-Disposition: attachment`): `{member_id, exported_at, services: "
                      "{members, identity, notify}}`."),
    Route("POST", "/members/<int:member_id>/erasure", "Xoá dữ liệu cá nhân của một đảng viên / Erase a member's "
          "personal data in every service", "members.erase_member", ("member_id", BODY), body=m.ErasureRequest,
          answers={200: m.Erasure}, errors=(Forbidden, NotFound),
          description="System administrators, with a reason, never for themselves. members keeps a pseudonymous "
                      "tombstone (figures and history stay consistent); every service records who asked, when and "
                      "why. The answer says how many of what went, never what."),
    Route("PATCH", "/me", "Cập nhật thông tin của tôi / Change my data: contact at once, core data by request",
          "members.update_me", (BODY,), body=m.MeUpdate, answers={200: m.MeUpdated}, errors=(Conflict,)),
    Route("GET", "/organizations/<int:organization_id>", "Một tổ chức đảng / One party organisation",
          "members.get_organization", ("organization_id",), answers={200: m.Organization}),
    Route("GET", "/organizations/<int:organization_id>/children", "Các tổ chức trực thuộc / The organisations "
          "directly below", "members.list_children", ("organization_id",), answers={200: m.OrganizationPage}),
    Route("GET", "/organizations/<int:organization_id>/members", "Đảng viên của tổ chức / Members of an "
          "organisation's subtree", "members.list_members", ("organization_id", QUERY), query=m.MemberQuery,
          answers={200: m.MemberPage},
          description="Officers get the records of their subtree; `q` is a name (diacritics and case ignored), a "
                      "citizen ID or a party card number. A member gets `{id, full_name, positions}` of their own "
                      "branch's current members, and `q` is a name."),
    Route("GET", "/organizations/<int:organization_id>/stats", "Số liệu của cấp uỷ / A committee's figures",
          "members.organization_stats", ("organization_id",), answers={200: m.Stats}),
    Route("GET", "/organizations/<int:organization_id>/uptake", "Kích hoạt Sổ tay theo tổ chức trực thuộc / Uptake "
          "in each organisation below", "members.organization_uptake", ("organization_id",), report=UPTAKE,
          description="Members in the party and those who signed in, for the subtree and for each organisation "
                      "directly below; rates are fractions 0–1. `?format=xlsx` downloads the table."),
    Route("POST", "/organizations/<int:organization_id>/children", "Lập tổ chức trực thuộc / Create an organisation "
          "below", "members.create_organization", ("organization_id", BODY), body=m.OrganizationCreate,
          answers={201: m.Organization}, errors=(Forbidden, Conflict)),
    Route("PATCH", "/organizations/<int:organization_id>", "Đổi tên hoặc chuyển tổ chức / Rename or move an "
          "organisation", "members.update_organization", ("organization_id", BODY), body=m.OrganizationUpdate,
          answers={200: m.Organization}, errors=(Forbidden,)),
    Route("POST", "/organizations/<int:organization_id>/merge", "Hợp nhất tổ chức / Dissolve an organisation into "
          "another of its level", "members.merge_organization", ("organization_id", "body.into"),
          body=m.MergeRequest, answers={200: m.Organization}, errors=(Forbidden,)),
    Route("PUT", "/organizations/<int:organization_id>/rollout", "Triển khai Sổ tay cho cấp uỷ / Switch a committee "
          "to disabled, pilot or live", "members.set_rollout", ("organization_id", "body.state"),
          body=m.RolloutChange, answers={200: m.Organization}, errors=(Forbidden,)),
    Route("POST", "/members", "Thêm đảng viên / Add a member", "members.create_member", (BODY,), body=m.MemberCreate,
          answers={201: m.Member, 202: m.RegistrationPending}, errors=(Forbidden, Conflict, TooManyAttempts),
          status=lambda answer: 202 if answer.get("status") == "pending_review" else 201,
          description="A citizen ID or card number held in the officer's subtree is a 409; one held outside it "
                      "waits for a system administrator (202 `pending_review`), a few a day per officer."),
    Route("GET", "/member-registrations", "Hồ sơ chờ xem xét / Registrations waiting for review",
          "members.pending_registrations", answers={200: m.RegistrationPage}, errors=(Forbidden,)),
    Route("POST", "/member-registrations/<int:registration_id>/close", "Đóng hồ sơ chờ xem xét / Close a "
          "registration", "members.close_registration", ("registration_id", "body.reason"), body=m.Decision,
          optional_body=True, answers={200: m.RegistrationClosed}, errors=DECIDED),
    Route("GET", "/members/<int:member_id>", "Hồ sơ đảng viên / A member's record", "members.get_member",
          ("member_id",), answers={200: m.Member}),
    Route("PATCH", "/members/<int:member_id>", "Sửa hồ sơ đảng viên / Change a member's record",
          "members.update_member", ("member_id", BODY), body=m.MemberUpdate, answers={200: m.Member},
          errors=(Forbidden, Conflict), description="Leaving states need their date and reason."),
    Route("GET", "/change-requests", "Yêu cầu sửa hồ sơ chờ duyệt / Change requests waiting for this secretary",
          "members.change_requests", answers={200: m.ChangeRequestPage}),
    *decisions("/change-requests/<int:request_id>", "members.decide_change_request", "Duyệt hoặc từ chối yêu cầu sửa "
               "hồ sơ / Approve or reject a change request", m.ChangeRequest, verbs=("approve", "reject"),
               args=("body.reason",), body=m.Decision, optional_body=True, errors=(*DECIDED, Conflict)),
    Route("POST", "/members/<int:member_id>/transfers", "Chuyển sinh hoạt đảng / Transfer a member to another "
          "organisation", "members.issue_transfer", ("member_id", BODY), body=m.TransferRequest,
          answers={201: m.Transfer}, errors=(Forbidden, Conflict)),
    Route("GET", "/transfers/incoming", "Giấy chuyển đến chờ tiếp nhận / Transfers waiting to be accepted",
          "members.incoming_transfers", answers={200: m.TransferPage}),
    Route("POST", "/transfers/<int:transfer_id>/accept", "Tiếp nhận đảng viên chuyển đến / Accept a transfer",
          "members.accept_transfer", ("transfer_id",), answers={200: m.Transfer}, errors=(Forbidden, Conflict)),
    Route("POST", "/members/<int:member_id>/positions", "Bổ nhiệm chức vụ / Appoint to a position",
          "members.change_position", ("member_id", BODY, True), body=m.PositionChange,
          answers={200: m.Member}, errors=(Forbidden, Conflict), name="appoint"),
    Route("DELETE", "/members/<int:member_id>/positions", "Thôi chức vụ / End a position", "members.change_position",
          ("member_id", BODY, False), body=m.PositionChange, answers={200: m.Member}, errors=(Forbidden,),
          name="end_position"),
    Route("GET", "/members/<int:member_id>/records", "Hồ sơ điện tử / The digital file (work, rewards, discipline)",
          "members.list_records", ("member_id",), answers={200: m.RecordPage}),
    Route("POST", "/members/<int:member_id>/records", "Thêm vào hồ sơ điện tử / Add to the digital file",
          "members.add_record", ("member_id", BODY), body=m.RecordCreate, answers={201: m.Record}, errors=(Forbidden,)),
    Route("POST", "/imports", "Nhập dữ liệu đảng viên / Import the Party member database export",
          handlers.start_import, ("query.dry_run",), query=m.ImportOptions, body=handlers.UPLOAD,
          answers={202: m.ImportStarted}, errors=(Forbidden, PayloadTooLarge),
          description="CSV or XLSX up to 32 MiB (the command line `make import` takes any size), run in the "
                      "background. System administrators only, decided before the body is read."),
    Route("GET", "/imports/<job_id>", "Tiến độ nhập dữ liệu / Where an import stands", "members.import_status",
          ("job_id",), answers={200: m.ImportJob}, errors=(Forbidden,)),
]

NOTIFICATIONS = [
    Route("GET", "/me/notifications", "Hộp thư của tôi / My inbox (newest first)", "notify.list_inbox", (QUERY,),
          query=n.InboxQuery, answers={200: n.Inbox},
          description="Messages to the member and the documents published to their organisation or one above it, "
                      "merged newest first (`kind`); one cursor pages through both, and "
                      "`POST /me/notifications/{id}/read` takes either kind's id."),
    Route("POST", "/me/notifications/all/read", "Đánh dấu tất cả đã đọc / Mark every one read", "notify.mark_read",
          (None,), answers={200: n.Marked}, name="mark_all_read"),
    Route("POST", "/me/notifications/<int:notification_id>/read", "Đánh dấu đã đọc / Mark one read",
          "notify.mark_read", ("notification_id",), answers={200: n.Marked}),
    Route("GET", "/me/notification-preferences", "Tuỳ chọn nhận tin / Which categories reach me on which channel",
          "notify.get_preferences", answers={200: n.Preferences}),
    Route("PUT", "/me/notification-preferences", "Đổi tuỳ chọn nhận tin / Change them (codes and security messages "
          "always reach me)", "notify.set_preferences", (BODY,), body=n.PreferencesUpdate,
          answers={200: n.Preferences}),
    Route("GET", "/me/push-key", "Khoá nhận thông báo đẩy trên trình duyệt / The key a browser subscribes to Web Push "
          "with", "notify.push_key", answers={200: n.PushKey}),
    Route("POST", "/me/devices", "Đăng ký thiết bị nhận thông báo / Register a device for push notifications",
          "notify.register_device", (BODY,), body=n.DeviceRegistration, answers={201: n.Device}),
]

SEEN = (Forbidden, NotFound)  # 404: not the caller's to know of; 403: known, not theirs to do
MEETING = "/meetings/<int:meeting_id>"
PAPER = f"{MEETING}/papers/<int:document_id>"
MEETINGS = [
    Route("POST", "/organizations/<int:organization_id>/meetings", "Lên lịch họp / Schedule a meeting",
          "meetings.schedule_meeting", ("organization_id", BODY), body=mt.MeetingCreate, answers={201: mt.Meeting},
          errors=SEEN,
          description="The organisation's secretary or deputy secretary, or an officer of a committee above. Every "
                      "current member is invited (a `committee` meeting: the committee). `repeat` (regular "
                      "meetings): the `day` of every month at `time`, Vietnam time; occurrences are made three "
                      "months ahead and rolled forward. Times need their offset; at most a year ahead."),
    Route("GET", "/me/meetings", "Cuộc họp của tôi / My meetings, soonest first", handlers.my_meetings, (QUERY,),
          query=mt.MeetingQuery, answers={200: mt.MeetingPage, 304: None},
          description=CONDITIONAL),
    Route("GET", "/organizations/<int:organization_id>/meetings", "Cuộc họp của tổ chức / An organisation's "
          "meetings", "meetings.organization_meetings", ("organization_id", QUERY), query=mt.MeetingQuery,
          answers={200: mt.MeetingPage}, errors=(NotFound,),
          description="Officers of the organisation or above: all; its members: those they are invited to."),
    Route("GET", MEETING, "Một cuộc họp / A meeting", handlers.get_meeting, answers={200: mt.Meeting, 304: None},
          errors=(NotFound,),
          description="Its invitees and the officers of its organisation or above; anyone else: 404. An invitee's "
                      "answer: " + CONDITIONAL),
    Route("PATCH", MEETING, "Đổi lịch, địa điểm, chương trình họp / Reschedule or change a meeting (invitees are "
          "told)", "meetings.update_meeting", ("meeting_id", BODY), body=mt.MeetingUpdate, answers={200: mt.Meeting},
          errors=(*SEEN, mt.MeetingClosed)),
    Route("POST", f"{MEETING}/cancel", "Huỷ cuộc họp / Cancel a meeting, with the reason",
          "meetings.cancel_meeting", ("meeting_id", BODY), body=mt.Cancellation, answers={200: mt.Meeting},
          errors=(*SEEN, mt.MeetingClosed)),
    Route("POST", f"{MEETING}/start", "Bắt đầu cuộc họp / Open the meeting", "meetings.start_meeting",
          ("meeting_id",), answers={200: mt.Meeting}, errors=(*SEEN, mt.MeetingClosed)),
    Route("POST", f"{MEETING}/close", "Kết thúc cuộc họp / Close the meeting", "meetings.close_meeting",
          ("meeting_id",), answers={200: mt.Meeting}, errors=(*SEEN, mt.MeetingClosed)),
    Route("GET", f"{MEETING}/invitees", "Người được mời / Invitees, their answers and check-ins",
          "meetings.list_invitees", ("meeting_id", QUERY), query=mt.PageQuery, answers={200: mt.InviteePage},
          errors=(NotFound,)),
    Route("POST", f"{MEETING}/rsvp", "Trả lời tham dự / Attending, or absent with a reason",
          "meetings.rsvp", ("meeting_id", BODY), body=mt.RsvpIn, answers={200: mt.Rsvp},
          errors=(*SEEN, mt.MeetingClosed),
          description="Changeable until the start. An officer running the meeting may send `member_id` to record "
                      "the answer of a member without the app (recorded as such)."),
    Route("GET", f"{MEETING}/check-in-code", "Mã điểm danh hiện tại / The check-in code (rotates every 30 s)",
          handlers.check_in_code, answers={200: mt.CheckInCodeShown},
          errors=(*SEEN, mt.CheckInClosed),
          description="The officers running the meeting, from 30 minutes before the start to the end. `qr` is what "
                      "the QR code on their screen carries; `image` draws it (SVG)."),
    Route("POST", f"{MEETING}/check-in", "Điểm danh / Check in with the code (or an officer for a member)",
          "meetings.check_in", ("meeting_id", BODY), body=mt.CheckInIn, answers={200: mt.CheckIn},
          errors=(*SEEN, mt.CheckInCodeInvalid, mt.CheckInClosed),
          description="`{code}`, or `{code, at}` for a check-in scanned without signal (accepted if the code was "
                      "valid at `at`, inside the window, not in the future); an officer sends `{member_id}`. Late "
                      "after 15 minutes. A second check-in answers the first."),
    Route("GET", "/me/attendance", "Tôi đã dự họp thế nào / My meetings attended and missed",
          "meetings.my_attendance", (QUERY,), query=mt.AttendanceQuery, answers={200: mt.MyAttendance},
          description="Meetings that took place between `from` (default: a year ago) and `to` (default: now), newest "
                      "first; `excused`: absent with a reason."),
    Route("GET", "/organizations/<int:organization_id>/absentees", "Đảng viên vắng họp không lý do / Members absent "
          "without a reason three times in twelve months", "meetings.absentees", ("organization_id",),
          answers={200: mt.Absentees}, errors=(NotFound,),
          description="The organisation's officers and those above: its regular meetings that took place in the "
                      "last twelve months; absent means not checked in and no absence with its reason."),
    Route("GET", "/organizations/<int:organization_id>/attendance", "Chuyên cần sinh hoạt theo tổ chức trực thuộc / "
          "Meeting attendance in each organisation below", "meetings.attendance_report", ("organization_id", QUERY),
          query=mt.AttendanceReportQuery, report=ATTENDANCE, errors=(NotFound,),
          description="The subtree's officers: meetings held (closed, not cancelled) in the month (Vietnam's "
                      "calendar; `year` sums its twelve months), invitations and check-ins, for the subtree and for "
                      "each organisation directly below; rates are fractions 0–1. `?format=xlsx` downloads the "
                      "table. Kept as running totals as meetings close."),
    Route("GET", f"{MEETING}/opinions", "Ý kiến / Opinions on the meeting's agenda", "meetings.list_opinions",
          ("meeting_id", QUERY), query=mt.PageQuery, answers={200: mt.OpinionPage}, errors=(NotFound,)),
    Route("POST", f"{MEETING}/opinions", "Góp ý kiến / Give an opinion (or reply to one)", "meetings.add_opinion",
          ("meeting_id", BODY), body=mt.OpinionIn, answers={201: mt.Opinion}, errors=(*SEEN, mt.MeetingClosed)),
    Route("PATCH", "/opinions/<int:opinion_id>", "Sửa ý kiến (trong 5 phút) / Edit an opinion (for 5 minutes)",
          "meetings.edit_opinion", ("opinion_id", BODY), body=mt.OpinionEdit, answers={200: mt.Opinion},
          errors=(*SEEN, mt.EditWindowPassed)),
    Route("POST", "/opinions/<int:opinion_id>/pin", "Ghim ý kiến / Pin an opinion", "meetings.moderate_opinion",
          ("opinion_id", True, False), answers={200: mt.Opinion}, errors=SEEN, name="pin_opinion"),
    Route("POST", "/opinions/<int:opinion_id>/unpin", "Bỏ ghim ý kiến / Unpin an opinion",
          "meetings.moderate_opinion", ("opinion_id", False, False), answers={200: mt.Opinion}, errors=SEEN,
          name="unpin_opinion"),
    Route("POST", "/opinions/<int:opinion_id>/hide", "Ẩn ý kiến / Hide an opinion (kept in the record)",
          "meetings.moderate_opinion", ("opinion_id", None, True), answers={200: mt.Opinion}, errors=SEEN,
          name="hide_opinion"),
    Route("POST", f"{MEETING}/votes", "Mở biểu quyết / Open a vote", "meetings.create_vote", ("meeting_id", BODY),
          body=mt.VoteIn, answers={201: mt.Vote}, errors=(*SEEN, mt.MeetingClosed)),
    Route("GET", f"{MEETING}/votes", "Các biểu quyết của cuộc họp / The meeting's votes", "meetings.list_votes",
          ("meeting_id",), answers={200: mt.VotePage}, errors=(NotFound,)),
    Route("GET", "/votes/<int:vote_id>", "Một biểu quyết / A vote (results once closed)", "meetings.get_vote",
          ("vote_id",), answers={200: mt.Vote}, errors=(NotFound,)),
    Route("POST", "/votes/<int:vote_id>/ballots", "Bỏ phiếu / Cast a ballot", "meetings.cast_ballot",
          ("vote_id", BODY), body=mt.BallotIn, answers={201: mt.BallotCast},
          errors=(*SEEN, mt.AlreadyVoted, mt.VoteClosedError, Conflict),
          description="`choice` is one of the vote's options. A secret ballot is kept as a count only."),
    Route("POST", "/votes/<int:vote_id>/close", "Kết thúc biểu quyết / Close a vote: its results",
          "meetings.close_vote", ("vote_id",), answers={200: mt.Vote}, errors=(*SEEN, mt.VoteClosedError)),
    Route("POST", f"{MEETING}/minutes", "Công bố biên bản / Publish the minutes and resolutions",
          "meetings.publish_minutes", ("meeting_id", BODY), body=mt.MinutesIn, answers={201: mt.Minutes},
          errors=(*SEEN, mt.MeetingClosed, Conflict)),
    Route("GET", f"{MEETING}/minutes", "Biên bản họp / The minutes", "meetings.get_minutes", ("meeting_id",),
          answers={200: mt.Minutes}, errors=(NotFound,),
          description="`papers`: the documents published with them, each read at `/meetings/{meeting_id}/papers/"
                      "{id}` by everyone who sees the meeting."),
    Route("GET", PAPER, "Tài liệu cuộc họp / A meeting paper (as GET /documents/{id} answers it)",
          "meetings.paper", ("meeting_id", "document_id"), answers={200: c.Document}, errors=(NotFound,),
          description="A document on the meeting's agenda or published with its minutes, for everyone who sees the "
                      "meeting (its invitees, the officers of its organisation or above) whatever the document's "
                      "audience; anyone else, another document, or a withdrawn one: 404."),
    Route("GET", f"{PAPER}/attachments/<int:n>", "Tải tệp của tài liệu cuộc họp / Download a meeting paper's "
          "attachment (ETag, Range)", handlers.paper_attachment, answers={200: None}, errors=(NotFound,),
          name="download_paper_attachment",
          description="Whoever may read the paper (others 404), as `/documents/{id}/attachments/{n}`: streamed, "
                      "resumable with `Range`, revalidated with `If-None-Match`, saved under its own name."),
]

DOCUMENT = "/documents/<int:document_id>"
STUDY_PROGRESS = Report("StudyProgressReport", "study-progress", "Tiến độ học tập / Study progress",
    about={"document_id": ("Văn bản / Document", fields.Integer(required=True))}, columns=(
    Count("audience", "Đảng viên được gửi / Members reached"), Count("read", "Đã đọc / Read"),
    Rate("rate", "read", "audience", "Tỉ lệ đã đọc / Read rate"), Count("passed", "Đạt bài kiểm tra / Passed"),
    Rate("passed_rate", "passed", "audience", "Tỉ lệ đạt / Pass rate")))
DOCUMENT_STATE = (Forbidden, NotFound, c.DocumentStateConflict)
CONTENT = [
    Route("POST", "/documents", "Soạn văn bản / Write a document (a draft, or scheduled with `publish_at`)",
          "content.create_document", (BODY,), body=c.DocumentCreate, answers={201: c.Document},
          errors=(Forbidden, c.UnknownOrganization),
          description="Officers, for an audience inside their own subtrees (system administrators: anywhere). The "
                      "body is Markdown (or a small HTML subset) and is kept and answered as sanitised HTML: no "
                      "script, event handler or `javascript:` link survives."),
    Route("GET", "/documents", "Văn bản của tôi / Documents for me (newest first; full text with `q`)",
          handlers.list_documents, (QUERY,), query=c.DocumentQuery, answers={200: c.DocumentPage, 304: None},
          errors=(Forbidden,),
          description="Published documents whose audience holds the caller's organisation or one above it. `q` "
                      "ignores diacritics and case (đ is d) and ranks the best match first. Officers may ask "
                      "`status=draft|scheduled|withdrawn` for their subtree's. " + CONDITIONAL),
    Route("GET", DOCUMENT, "Một văn bản / One document", "content.get_document", ("document_id", QUERY),
          query=c.VersionQuery, answers={200: c.Document}, errors=(NotFound,),
          description="Its audience and the officers over it; anyone else 404. Officers may read an earlier "
                      "version (`version`)."),
    Route("PATCH", DOCUMENT, "Sửa văn bản / Edit a draft, or publish a new version of a published one",
          "content.update_document", ("document_id", BODY), body=c.DocumentUpdate, answers={200: c.Document},
          errors=(*DOCUMENT_STATE, c.UnknownOrganization)),
    Route("POST", f"{DOCUMENT}/publish", "Đăng văn bản / Publish a document now", "content.publish_document",
          ("document_id",), answers={200: c.Document}, errors=DOCUMENT_STATE),
    Route("POST", f"{DOCUMENT}/withdraw", "Thu hồi văn bản / Withdraw a document (kept for audit)",
          "content.withdraw_document", ("document_id",), answers={200: c.Document}, errors=DOCUMENT_STATE),
    Route("POST", f"{DOCUMENT}/attachments", "Đính kèm tệp / Attach a file (PDF, DOCX, XLSX, images; 50 MiB)",
          handlers.add_attachment, body=handlers.ATTACHMENT, answers={201: c.Attachment},
          errors=(*DOCUMENT_STATE, Conflict, PayloadTooLarge, UnsupportedMediaType),
          description="The officers who may edit the document, asked before the file is read. Its type is judged "
                      "by its bytes, not its name (415 otherwise); over 50 MiB 413; a refused file leaves nothing "
                      "behind."),
    Route("GET", f"{DOCUMENT}/attachments/<int:n>", "Tải tệp đính kèm / Download an attachment (ETag, Range)",
          handlers.attachment, answers={200: None}, errors=(NotFound,), name="download_attachment",
          description="Whoever may read the document (others 404), streamed, resumable with `Range`, revalidated "
                      "with `If-None-Match`, saved under its own name (`Content-Disposition`)."),
    Route("POST", f"{DOCUMENT}/read", "Đánh dấu đã đọc / Mark a document read (again: no change)",
          "content.mark_read", ("document_id",), answers={200: c.DocumentMarks},
          errors=(NotFound, c.DocumentStateConflict), name="mark_document_read"),
    Route("PUT", f"{DOCUMENT}/bookmark", "Lưu văn bản / Bookmark a document", "content.set_bookmark",
          ("document_id", True), answers={200: c.DocumentMarks}, errors=(NotFound,), name="bookmark"),
    Route("DELETE", f"{DOCUMENT}/bookmark", "Bỏ lưu văn bản / Remove a bookmark", "content.set_bookmark",
          ("document_id", False), answers={200: c.DocumentMarks}, errors=(NotFound,), name="unbookmark"),
    Route("GET", "/me/documents/unread-count", "Số văn bản chưa đọc / How many documents I have not read",
          "content.unread_count", answers={200: c.UnreadCount}),
    Route("PUT", f"{DOCUMENT}/quiz", "Đặt bài kiểm tra / Set a study document's quiz", "content.set_quiz",
          ("document_id", BODY), body=c.QuizSet, answers={200: c.Quiz}, errors=DOCUMENT_STATE,
          description="The officers over the document; `pass_mark` is the fraction of questions to answer right."),
    Route("GET", f"{DOCUMENT}/quiz", "Bài kiểm tra / A study document's quiz (members: without the answers)",
          "content.get_quiz", ("document_id",), answers={200: c.Quiz}, errors=(NotFound,)),
    Route("POST", f"{DOCUMENT}/quiz/attempts", "Làm bài kiểm tra / Attempt the quiz: scored on the server",
          "content.attempt_quiz", ("document_id", BODY), body=c.QuizAttempt, answers={200: c.AttemptResult},
          errors=(NotFound, c.DocumentStateConflict, c.AttemptsExhausted),
          description="The best score is kept; attempts are limited (`max_attempts`)."),
    Route("GET", "/organizations/<int:organization_id>/study-progress", "Tiến độ học tập một văn bản theo tổ chức "
          "trực thuộc / A document's study progress in each organisation below", "content.study_progress",
          ("organization_id", QUERY), query=c.StudyProgressQuery, report=STUDY_PROGRESS, errors=(NotFound,),
          description="The officers over the organisation (others 404), for a published document some of its "
                      "members see (otherwise 404): members it reaches now (`audience`), how many read it (a "
                      "receipt of any version) and passed its quiz, for the subtree and each organisation directly "
                      "below, from running totals; rates are fractions 0–1. `?format=xlsx` downloads the table."),
    Route("GET", "/me/study", "Quá trình học tập của tôi / My reading and quiz results on study material",
          "content.my_study", (QUERY,), query=c.MyPageQuery, answers={200: c.StudyPage}),
    Route("GET", "/me/notes", "Sổ tay cá nhân / My notes (newest first)", "content.list_notes", (QUERY,),
          query=c.MyPageQuery, answers={200: c.NotePage}),
    Route("POST", "/me/notes", "Ghi chú mới / A new note", "content.create_note", (BODY,), body=c.NoteCreate,
          answers={201: c.Note}),
    Route("GET", "/me/notes/<int:note_id>", "Một ghi chú / One of my notes", "content.get_note", ("note_id",),
          answers={200: c.Note}, errors=(NotFound,), description="The owner alone; anyone else 404."),
    Route("PATCH", "/me/notes/<int:note_id>", "Sửa ghi chú / Edit one of my notes", "content.update_note",
          ("note_id", BODY), body=c.NoteUpdate, answers={200: c.Note}, errors=(NotFound,)),
    Route("DELETE", "/me/notes/<int:note_id>", "Xoá ghi chú / Delete one of my notes", "content.delete_note",
          ("note_id",), answers={200: c.Deleted}, errors=(NotFound,)),
]

# by the service that owns them
ROUTES = {"identity": SIGN_IN, "members": MEMBERS, "notify": NOTIFICATIONS, "meetings": MEETINGS, "content": CONTENT}
# fmt: on
