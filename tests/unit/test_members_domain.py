from types import SimpleNamespace

import pytest

from services.members import domain
from shared import tree


@pytest.mark.parametrize("name, key", [
    ("Nguyễn Văn An", "nguyen van an"),
    ("  ĐẶNG   Thị  Hồng ", "dang thi hong"),
    ("Phạm Đức Thắng", "pham duc thang"),
])
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
    return domain.Actor(member=member, positions=[
        SimpleNamespace(role=role, organization=SimpleNamespace(path=path)) for role, path in positions])


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
