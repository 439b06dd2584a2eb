"""The services' contracts: the shared vocabulary (citizen IDs, phones, cursors) and the catalogue's rules."""

import ast
import base64
import pathlib

import pytest
from marshmallow import Schema, ValidationError as SchemaError, fields

from shared import contracts, errors
from shared.contracts.common import (
    CITIZEN_ID,
    NOT_A_CURSOR,
    NOT_A_MOBILE,
    Phone,
    decode_cursor,
    encode_cursor,
    is_citizen_id,
    normalize_phone,
)
from shared.errors import ValidationError


@pytest.mark.parametrize(
    "typed",
    [
        "0912345678",
        "+84912345678",
        "84912345678",
        "0912 345 678",
        "+84 912 345 678",
        "0912.345.678",
        "091-234-5678",
        "(091) 234 5678",
        " 0912345678 ",
    ],
)
def test_a_mobile_number_typed_any_usual_way_is_kept_in_one_form(typed):
    assert normalize_phone(typed) == "+84912345678"


@pytest.mark.parametrize("prefix", ["3", "5", "7", "8", "9"])
def test_every_mobile_prefix_is_a_mobile_number(prefix):
    assert normalize_phone(f"0{prefix}12345678") == f"+84{prefix}12345678"


@pytest.mark.parametrize(
    "typed",
    [
        "",
        None,
        "12345",
        "091234567",
        "09123456789",
        "+8491234567",
        "+849123456789",  # too short or too long
        "0212345678",
        "+84212345678",
        "0112345678",  # a landline, no such prefix
        "+840912345678",
        "0084912345678",
        "+1 202 555 0100",
        "912345678",
        "０９１２３４５６７８",
        "0912345678x",
        "+84 912 345 678 ext 2",
    ],
)
def test_anything_else_is_not_a_mobile_number(typed):
    assert normalize_phone(typed) is None


def test_the_kept_form_reads_as_itself():
    kept = normalize_phone("0912 345 678")
    assert normalize_phone(kept) == kept


def test_a_phone_field_loads_the_kept_form_and_refuses_the_rest_in_both_languages():
    class Body(Schema):
        phone = Phone(allow_none=True)

    assert Body().load({"phone": "0912.345.678"}) == {"phone": "+84912345678"}
    assert Body().load({"phone": None}) == {"phone": None}
    with pytest.raises(SchemaError) as refused:
        Body().load({"phone": "12345"})
    assert refused.value.messages == {"phone": [NOT_A_MOBILE]}
    assert " / " in NOT_A_MOBILE


def full_width(digits):
    return "".join(chr(ord(d) + 0xFEE0) for d in digits)


@pytest.mark.parametrize(
    "value, valid",
    [
        ("001000000002", True),
        (full_width("001000000002"), False),
        ("٠٠١٠٠٠٠٠٠٠٠٢", False),
        ("001000000002\n", False),
        (" 001000000002", False),
        ("001000000002 ", False),
        ("00100000000²", False),
        ("00100000000", False),
        ("0010000000021", False),
        (1000000002, False),
        (None, False),
    ],
)
def test_a_citizen_id_is_exactly_twelve_ascii_digits(value, valid):
    class Body(Schema):
        citizen_id = fields.Raw(validate=CITIZEN_ID)

    assert is_citizen_id(value) is valid
    assert (Body().validate({"citizen_id": value}) == {}) is valid


def test_a_cursor_gives_back_what_it_was_made_of():
    assert decode_cursor(encode_cursor("nguyen van an", 42), str, int) == ["nguyen van an", 42]
    assert decode_cursor(encode_cursor(2**63 - 1), int) == [2**63 - 1]
    assert decode_cursor(encode_cursor("Lê Văn Hùng", 0), str, int) == ["Lê Văn Hùng", 0]


def _encoded(raw):
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        encode_cursor(None, None),
        encode_cursor({"x": 1}, 1),
        encode_cursor("a", 2**63),
        encode_cursor("a", True),
        encode_cursor("a", -1),
        encode_cursor("\ud800", 1),
        encode_cursor("a\x00", 1),
        encode_cursor("a"),
        encode_cursor("a", 1.5),
        encode_cursor("a", "1"),
        encode_cursor("a", 1, 2),
        encode_cursor(1, "a"),
        _encoded('"a"'),
        _encoded("{}"),
        _encoded("[1"),
        "!!!",
        "",
        "é",
        encode_cursor("nguyen van an", 42)[:-3],
    ],
)
def test_a_cursor_anyone_altered_is_refused_with_a_400(cursor):
    with pytest.raises(ValidationError) as refused:
        decode_cursor(cursor, str, int)
    assert refused.value.status == 400 and refused.value.details == {"cursor": [NOT_A_CURSOR]}


def test_every_event_type_is_named_after_the_service_whose_contract_holds_it():
    for service, module in contracts.modules().items():
        for event_type, event in module.EVENTS.items():
            assert event_type.startswith(f"{service}."), event_type
            assert issubclass(event.schema, Schema) and event.summary
    assert {"identity", "members", "notify", "meetings", "content"} <= set(contracts.modules())
    assert len(contracts.catalogue()) == sum(len(m.EVENTS) for m in contracts.modules().values())


def test_every_service_error_crosses_rpc_under_a_name_of_its_own():
    names = [
        cls.__name__
        for module in contracts.modules().values()
        for cls in vars(module).values()
        if isinstance(cls, type) and issubclass(cls, errors.SotayError) and cls.__module__ == module.__name__
    ]
    assert "InvalidCredentials" in names
    platform = {
        name for name, cls in vars(errors).items() if isinstance(cls, type) and issubclass(cls, errors.SotayError)
    }
    assert len(names) == len(set(names)) and not set(names) & platform
    assert set(names) <= set(errors.error_types())


ALLOWED_IMPORTS = {
    "base64",
    "json",
    "re",
    "typing",
    "importlib",
    "pkgutil",
    "functools",
    "marshmallow",
    "shared.contracts",
    "shared.errors",
    "shared.validation",
}


def test_a_contract_is_data_only():
    """No I/O, no framework, no service: the gateway and every service may import any contract."""
    for path in pathlib.Path(contracts.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                imported = [f"{'shared.contracts' if node.level else ''}{node.module or ''}"]
            else:
                continue
            for name in imported:
                assert any(name == ok or name.startswith(f"{ok}.") for ok in ALLOWED_IMPORTS), f"{path.name}: {name}"


def test_the_documented_phone_pattern_takes_exactly_what_the_rule_takes():
    """Clients (and schemathesis) read the pattern; the services apply normalize_phone: one rule, two forms."""
    import random
    import re

    from shared.contracts.common import TYPED_MOBILE, normalize_phone

    pattern, draw = re.compile(TYPED_MOBILE), random.Random(7)
    typed = [
        "0912345678",
        "+84 912 345 678",
        "84912345678",
        "0912.345.678",
        "(091) 234-5678",
        "+84000000000",
        "091234567",
        "09123456789",
        "+8 4 9 1 2 3 4 5 6 7 8",
        "84-0912345678",
        "0912345678\n",
    ]
    typed += ["".join(draw.choice("0123456789+ .()-84") for _ in range(draw.randint(0, 18))) for _ in range(20_000)]
    for phone in typed:
        assert bool(pattern.fullmatch(phone)) == (normalize_phone(phone) is not None), repr(phone)


def test_a_phone_typed_longer_than_documented_is_refused_even_when_its_digits_are_a_mobile():
    from marshmallow import Schema, ValidationError

    from shared.contracts.common import Phone

    body = Schema.from_dict({"phone": Phone()})()
    assert body.load({"phone": "0912 345 678"}) == {"phone": "+84912345678"}
    with pytest.raises(ValidationError):
        body.load({"phone": "0" + " " * 40 + "912345678"})
