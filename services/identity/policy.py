"""Password policy (NIST SP 800-63B / OWASP ASVS): length, not common, not personal data.

No composition rules. At least 8 characters, up to 128 (64 must be allowed),
any characters, NFC-normalised first. Refused when in the common list (zxcvbn's
30,000 most common plus a Vietnamese list bundled here), or equal to the
member's citizen ID, phone or date of birth in any usual spelling.
"""

import re
import unicodedata
from functools import lru_cache
from pathlib import Path

MIN_LENGTH = 8
MAX_LENGTH = 128

MESSAGES = {
    "too_short": f"Mật khẩu cần ít nhất {MIN_LENGTH} ký tự. / Use at least {MIN_LENGTH} characters.",
    "too_long": f"Mật khẩu dài tối đa {MAX_LENGTH} ký tự. / Use at most {MAX_LENGTH} characters.",
    "common": "Mật khẩu này quá phổ biến, dễ bị đoán. / This password is too common and easy to guess.",
    "citizen_id": "Không dùng số định danh làm mật khẩu. / Do not use your citizen ID as the password.",
    "phone": "Không dùng số điện thoại làm mật khẩu. / Do not use your phone number as the password.",
    "date_of_birth": "Không dùng ngày sinh làm mật khẩu. / Do not use your date of birth as the password.",
}


@lru_cache(maxsize=1)
def common_passwords():
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    words = set(FREQUENCY_LISTS["passwords"])
    extra = Path(__file__).resolve().parent / "data" / "common-passwords-vi.txt"
    words.update(
        line.strip()
        for line in extra.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    )
    return frozenset(words)


def normalize(password):
    return unicodedata.normalize("NFC", password)


def _bare(text):
    return re.sub(r"[\s./\-_+]", "", text.lower())


def _phone_spellings(phone):
    digits = re.sub(r"\D", "", phone)
    local = "0" + digits[2:] if digits.startswith("84") else digits
    return {digits, local, "+" + digits, local[1:]}


def _date_spellings(born):
    d, m, y = f"{born.day:02d}", f"{born.month:02d}", f"{born.year:04d}"
    return {d + m + y, y + m + d, d + m + y[2:], m + d + y, y + "-" + m + "-" + d, f"{born.day}{born.month}{y}"}


def problems(password, citizen_id=None, phone=None, date_of_birth=None):
    """The reasons `password` is refused (empty when it is acceptable)."""
    password = normalize(password)
    if len(password) < MIN_LENGTH:
        return ["too_short"]
    if len(password) > MAX_LENGTH:
        return ["too_long"]
    found = []
    bare = _bare(password)
    if password.lower() in common_passwords() or bare in common_passwords():
        found.append("common")
    if citizen_id and citizen_id in bare and len(bare) <= len(citizen_id) + 2:
        found.append("citizen_id")
    if phone and bare.lstrip("+") in {_bare(p).lstrip("+") for p in _phone_spellings(phone)}:
        found.append("phone")
    if date_of_birth and bare in {_bare(s) for s in _date_spellings(date_of_birth)}:
        found.append("date_of_birth")
    return found


def describe(reasons):
    return {"new_password": [MESSAGES[r] for r in reasons]}


def summary():
    """The policy as a client shows it before anyone is refused."""
    return {"min_length": MIN_LENGTH, "max_length": MAX_LENGTH, "rules": dict(MESSAGES)}
