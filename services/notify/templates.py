"""What members read: Vietnamese first, English for those who chose it; times in Vietnam's (Asia/Ho_Chi_Minh)."""

from datetime import datetime
from zoneinfo import ZoneInfo

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

TEMPLATES = {
    "account_activated": {
        "vi": ("Tài khoản Sổ tay đã kích hoạt", "Đồng chí {name} đã kích hoạt tài khoản Sổ tay đảng viên điện tử."),
        "en": ("Sổ tay account activated", "{name}, your Sổ tay account is now active."),
    },
    "change_request_approved": {
        "vi": ("Yêu cầu sửa hồ sơ đã được duyệt", "Chi bộ đã duyệt yêu cầu sửa hồ sơ của đồng chí."),
        "en": ("Change approved", "Your branch approved the change to your record."),
    },
    "change_request_rejected": {
        "vi": ("Yêu cầu sửa hồ sơ chưa được duyệt", "Chi bộ chưa duyệt yêu cầu sửa hồ sơ của đồng chí: {reason}"),
        "en": ("Change not approved", "Your branch did not approve the change to your record: {reason}"),
    },
    "transfer_issued": {
        "vi": (
            "Giấy chuyển sinh hoạt đảng",
            "Đã lập giấy chuyển sinh hoạt đảng cho đồng chí; chờ tổ chức nhận tiếp nhận.",
        ),
        "en": (
            "Transfer issued",
            "A transfer of your party membership was issued; the receiving organisation will accept it.",
        ),
    },
    "member_transferred": {
        "vi": ("Đã chuyển sinh hoạt đảng", "Tổ chức đảng mới đã tiếp nhận đồng chí."),
        "en": ("Transfer accepted", "Your new party organisation has accepted you."),
    },
    "invitation": {
        "vi": (
            "Mời sử dụng Sổ tay",
            (
                "Sổ tay đảng viên điện tử đã triển khai tại đảng bộ của đồng chí. "
                "Kích hoạt tài khoản bằng số định danh cá nhân trên ứng dụng Sổ tay."
            ),
        ),
        "en": (
            "Sổ tay is here",
            (
                "The electronic party-member handbook is live in your committee: "
                "activate your account with your citizen ID in the Sổ tay app."
            ),
        ),
    },
    "meeting_scheduled": {
        "vi": ("Giấy mời họp: {title}", "Đồng chí được mời dự «{title}» lúc {starts_at}. Địa điểm: {place}."),
        "en": ("Meeting invitation: {title}", "You are invited to “{title}” at {starts_at}. Place: {place}."),
    },
    "meeting_changed": {
        "vi": ("Thay đổi cuộc họp: {title}", "Cuộc họp «{title}» đã thay đổi: lúc {starts_at}. Địa điểm: {place}."),
        "en": ("Meeting changed: {title}", "“{title}” has changed: now at {starts_at}. Place: {place}."),
    },
    "meeting_cancelled": {
        "vi": ("Huỷ cuộc họp: {title}", "Cuộc họp «{title}» lúc {starts_at} đã bị huỷ. Lý do: {reason}"),
        "en": ("Meeting cancelled: {title}", "“{title}” at {starts_at} is cancelled. Reason: {reason}"),
    },
    "meeting_reminder_24h": {
        "vi": ("Nhắc lịch họp: {title}", "Còn 24 giờ: «{title}» bắt đầu lúc {starts_at}. Địa điểm: {place}."),
        "en": ("Meeting tomorrow: {title}", "In 24 hours: “{title}” starts at {starts_at}. Place: {place}."),
    },
    "meeting_reminder_1h": {
        "vi": ("Sắp họp: {title}", "Còn 1 giờ: «{title}» bắt đầu lúc {starts_at}. Địa điểm: {place}."),
        "en": ("Meeting in an hour: {title}", "In 1 hour: “{title}” starts at {starts_at}. Place: {place}."),
    },
    "minutes_published": {
        "vi": ("Biên bản cuộc họp: {title}", "Biên bản cuộc họp «{title}» lúc {starts_at} đã được công bố."),
        "en": ("Minutes published: {title}", "The minutes of “{title}” ({starts_at}) are published."),
    },
    "absences_flagged": {
        "vi": (
            "Đảng viên vắng sinh hoạt: {member}",
            (
                "Đồng chí {member} đã vắng {count} buổi sinh hoạt chi bộ thường kỳ không có lý do trong 12 tháng: "
                "cần xem xét theo Điều lệ Đảng."
            ),
        ),
        "en": (
            "Member absent from meetings: {member}",
            (
                "{member} missed {count} regular branch meetings without a reason in twelve months: the Party "
                "Charter calls for a review."
            ),
        ),
    },
    # a push for a publication; its inbox item is the document's own title and summary
    "publication": {
        "vi": ("Văn bản mới: {title}", "{summary}"),
        "en": ("New document: {title}", "{summary}"),
    },
    "publication_study": {
        "vi": ("Tài liệu học tập mới: {title}", "{summary}"),
        "en": ("New study material: {title}", "{summary}"),
    },
    "publication_revised": {
        "vi": ("Văn bản đã sửa đổi: {title}", "{summary}"),
        "en": ("Document revised: {title}", "{summary}"),
    },
}
# codes and security messages reach the member whatever their preferences
MANDATORY = {"security"}
CATEGORY = {
    "account_activated": "security",
    "change_request_approved": "records",
    "change_request_rejected": "records",
    "transfer_issued": "records",
    "member_transferred": "records",
    "invitation": "announcements",
    **dict.fromkeys(
        (
            "meeting_scheduled",
            "meeting_changed",
            "meeting_cancelled",
            "meeting_reminder_24h",
            "meeting_reminder_1h",
            "minutes_published",
            "absences_flagged",
        ),
        "meetings",
    ),
    "publication": "announcements",
    "publication_revised": "announcements",
    "publication_study": "study",
}


def render(kind, language, **values):
    """(title, body) of `kind` in `language`; a time among `values` is shown in Vietnam's time, in that language."""
    title, body = TEMPLATES[kind].get(language) or TEMPLATES[kind]["vi"]
    shown = {
        key: local_time(value, language) if isinstance(value, datetime) else value for key, value in values.items()
    }
    return title.format(**shown), body.format(**shown)


def local_time(moment, language):
    """`moment` (aware) as a member in Vietnam reads it: 19:30 ngày 05/12/2026 · 19:30, 5 Dec 2026 (Vietnam time)."""
    local = moment.astimezone(VIETNAM)
    if language == "en":
        return f"{local:%H:%M}, {local.day} {MONTHS[local.month - 1]} {local.year} (Vietnam time)"
    return f"{local:%H:%M} ngày {local:%d/%m/%Y}"
