from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest

from shared import tree
from services.members import counts, domain, importing


@pytest.mark.parametrize(
    "name, key",
    [
        ("Nguyễn Văn An", "nguyen van an"),
        ("  ĐẶNG   Thị  Hồng ", "dang thi hong"),
        ("Phạm Đức Thắng", "pham duc thang"),
    ],
)
def test_search_key_ignores_diacritics_case_and_spacing(name, key):
    assert domain.search_key(name) == key


def test_subtree_bounds_hold_exactly_the_subtree():
    low, high = tree.subtree_bounds("/1/5/")
    inside = ["/1/5/", "/1/5/9/", "/1/5/10/3/"]
    outside = ["/1/50/", "/1/6/", "/1/", "/1/4/99/"]
    assert all(low <= path < high for path in inside)
    assert not any(low <= path < high for path in outside)


def actor(member_path, positions=()):
    member = SimpleNamespace(id=1, organization_path=member_path)
    return domain.Actor(
        member=member,
        positions=[SimpleNamespace(role=role, organization=SimpleNamespace(path=path)) for role, path in positions],
    )


def org(path):
    return SimpleNamespace(path=path)


def test_a_member_sees_their_branch_and_the_committees_above_but_not_a_sibling():
    member = actor("/1/2/3/4/")
    assert member.may_see_organization(org("/1/2/3/4/"))
    assert member.may_see_organization(org("/1/2/"))
    assert not member.may_see_organization(org("/1/2/3/5/"))
    assert not member.manages("/1/2/3/4/")


def test_a_secretary_manages_their_subtree_only():
    secretary = actor("/1/2/3/4/", [("secretary", "/1/2/3/")])
    assert secretary.manages("/1/2/3/") and secretary.manages("/1/2/3/9/")
    assert not secretary.manages("/1/2/") and not secretary.manages("/1/2/30/")


def test_a_system_administrator_manages_everything():
    admin = actor("/1/2/3/4/", [("system_administrator", "/1/")])
    assert admin.manages("/1/77/88/")


def test_the_committees_above_are_the_path_prefixes():
    assert tree.ancestor_paths("/1/7/42/") == ["/1/", "/1/7/", "/1/7/42/"]
    assert tree.ancestor_ids("/1/7/42/") == [1, 7, 42]


def holder(member_id, member_path, positions=()):
    return SimpleNamespace(
        id=member_id,
        organization_path=member_path,
        positions=[SimpleNamespace(role=role, organization=SimpleNamespace(path=path)) for role, path in positions],
    )


def test_positions_are_given_from_strictly_above():
    secretary = actor("/1/2/3/4/", [("secretary", "/1/2/3/4/")])
    assert secretary.presides_over("/1/2/3/4/9/")  # a party group of her branch
    assert not secretary.presides_over("/1/2/3/4/")  # her own branch: the committee above
    assert actor("/1/2/3/4/", [("system_administrator", "/1/")]).presides_over("/1/")


def test_nobody_decides_about_themselves_a_peer_or_an_administrator():
    secretary = actor("/1/2/3/4/", [("secretary", "/1/2/3/4/")])
    assert not secretary.decides_about(holder(1, "/1/2/3/4/", [("secretary", "/1/2/3/4/")]))  # herself
    assert secretary.decides_about(holder(2, "/1/2/3/4/"))
    assert not secretary.decides_about(holder(3, "/1/2/3/4/", [("deputy_secretary", "/1/2/3/4/")]))
    assert secretary.decides_about(holder(4, "/1/2/3/4/9/", [("secretary", "/1/2/3/4/9/")]))
    assert not secretary.decides_about(holder(5, "/1/2/3/4/", [("system_administrator", "/1/")]))
    assert not secretary.decides_about(holder(6, "/1/2/3/5/"))
    admin = actor("/1/2/3/4/", [("system_administrator", "/1/")])
    assert admin.decides_about(holder(5, "/1/2/3/4/", [("system_administrator", "/1/")]))
    assert not admin.decides_about(holder(1, "/1/2/3/4/", [("system_administrator", "/1/")]))  # himself


@pytest.mark.parametrize(
    "prefix, following",
    [
        ("ab", "ac"),
        ("a\U0010ffff", "b"),
        ("\U0010ffff\U0010ffff", None),
        ("a\ud7ff", "a\ue000"),
    ],
)
def test_the_successor_of_a_name_prefix(prefix, following):
    from services.members.search import _next_prefix

    assert _next_prefix(prefix) == following


@pytest.mark.parametrize(
    "q, valid", [("nguyen van an", True), ("Lê\u00a0Văn", True), ("an\x00", False), ("an\n", False)]
)
def test_a_search_term_has_no_control_characters(q, valid):
    from shared.contracts.members import MemberQuery

    assert (MemberQuery().validate({"q": q}) == {}) is valid


@pytest.mark.parametrize(
    "now, today",
    [
        (datetime(2025, 12, 31, 16, 59, tzinfo=UTC), date(2025, 12, 31)),
        (datetime(2025, 12, 31, 17, 0, tzinfo=UTC), date(2026, 1, 1)),  # midnight in Hà Nội (UTC+7)
    ],
)
def test_today_is_the_vietnamese_day_whatever_the_servers_zone(now, today):
    assert counts.vietnam_today(now) == today


def test_an_import_checks_rows_against_the_vietnamese_day(monkeypatch):
    monkeypatch.setattr(counts, "vietnam_today", lambda: date(2026, 1, 1))
    assert importing.Checker({}).today == date(2026, 1, 1)
    assert importing.Checker({}, today=date(2025, 6, 1)).today == date(2025, 6, 1)


def test_a_document_title_is_found_without_its_diacritics():
    """đ/Đ fold to d, which Unicode decomposition alone does not do (content's search will rely on it)."""
    from shared.text import search_key

    assert search_key("Nghị quyết  Đại hội XIV") == "nghi quyet dai hoi xiv"
    assert search_key("ĐẢNG ỦY") == "dang uy"
