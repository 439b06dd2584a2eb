"""What members read: Vietnamese first, English for those who chose it."""

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
}


def render(kind, language, **values):
    title, body = TEMPLATES[kind].get(language) or TEMPLATES[kind]["vi"]
    return title, body.format(**values)
