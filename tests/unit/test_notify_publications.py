"""Publications in notify (services/notify/publications.py, inbox.py): one row per document, shown by organisation
path at read time; one inbox and one cursor over messages and publications; rollout and preferences for the push;
the push fan-out in batches."""

from datetime import timedelta
from itertools import count

import pytest
from sqlalchemy import func, insert, select, update

from shared.contracts.common import encode_cursor
from shared.db import utcnow
from shared.errors import NotFound, ValidationError
from services.notify import inbox, publications
from services.notify.models import Delivery, Notification, Publication, PublicationAudience
from tests.support.notify import drain_pushes, handled, publication, withdrawal
from tests.unit.test_notify_domain import prefer, sqlite_steps, tell

_documents = count(1)


def publish(world, *paths, document_id=None, **facts):
    document_id = document_id or next(_documents)
    handled(world.uow, "content.document_published", publication(document_id, *paths, **facts))
    return document_id


def withdraw(world, document_id, *paths, at=None):
    handled(world.uow, "content.document_withdrawn", withdrawal(document_id, *paths, at=at))


def documents(world, member_id, **query):
    return [
        item["document_id"] for item in inbox.inbox(world.session, member_id, **query)["items"] if item["document_id"]
    ]


@pytest.fixture
def w(notify_world):
    notify_world.rollout("/1/", "pilot")  # the whole country uses Sổ tay (pilot: nobody is invited by SMS)
    return notify_world


def test_a_publication_is_one_row_whatever_its_audience_and_shows_in_the_subtree_only(w):
    branch, sibling, province_office = w.recipient("/1/2/3/4/"), w.recipient("/1/2/3/5/"), w.recipient("/1/2/")
    other_province = w.recipient("/1/9/10/11/")
    national, provincial, local = publish(w, "/1/"), publish(w, "/1/2/"), publish(w, "/1/2/3/4/")
    assert w.session.scalar(select(func.count()).select_from(Publication)) == 3
    assert w.session.scalar(select(func.count()).select_from(PublicationAudience)) == 3  # no row per member
    assert documents(w, branch) == [local, provincial, national]
    assert documents(w, sibling) == [provincial, national]
    assert documents(w, province_office) == [provincial, national]
    assert documents(w, other_province) == [national]


def test_an_audience_of_several_organisations_shows_once(w):
    member = w.recipient("/1/2/3/4/")
    document = publish(w, "/1/2/", "/1/2/3/4/", "/1/9/")
    assert documents(w, member) == [document]
    assert inbox.inbox(w.session, member)["unread"] == 1


def test_a_member_who_transfers_sees_the_new_branchs_publications_at_once(w):
    member = w.recipient("/1/2/3/4/")
    old, new = publish(w, "/1/2/3/4/"), publish(w, "/1/9/10/11/")
    assert documents(w, member) == [old]
    with w.uow.transaction() as session:
        w.domain.project_member(
            session,
            {
                "member_id": member,
                "full_name": "Đảng viên Chuyển",
                "organization_id": 11,
                "organization_path": "/1/9/10/11/",
                "status": "official",
            },
        )
    assert documents(w, member) == [new]


def test_who_left_the_party_or_is_unknown_sees_none(w):
    left = w.recipient("/1/2/3/4/", status="resigned")
    publish(w, "/1/")
    assert documents(w, left) == [] and documents(w, 404) == []


def test_a_member_whose_committee_is_disabled_gets_nothing(notify_world):
    w = notify_world
    w.rollout("/1/2/", "live")
    live, disabled = w.recipient("/1/2/3/4/"), w.recipient("/1/9/10/11/")
    w.device(live), w.device(disabled)
    document = publish(w, "/1/")
    assert documents(w, live) == [document] and documents(w, disabled) == []
    drain(w)
    assert pushed(w) == [live]


def test_withdrawn_is_gone_and_a_late_copy_of_the_publication_does_not_bring_it_back(w):
    member = w.recipient("/1/2/3/4/")
    published_at = utcnow() - timedelta(minutes=5)
    document = publish(w, "/1/2/", at=published_at)
    withdraw(w, document, "/1/2/")
    assert documents(w, member) == [] and inbox.inbox(w.session, member)["unread"] == 0
    publish(w, "/1/2/", document_id=document, version=2, at=published_at)  # published before the withdrawal
    overtaken = next(_documents)
    withdraw(w, overtaken, "/1/2/")  # the withdrawal arrives before its publication
    publish(w, "/1/2/", document_id=overtaken, at=published_at)
    assert documents(w, member) == []
    publish(w, "/1/2/", document_id=document, version=3)  # published again afterwards
    assert documents(w, member) == [document]


def test_a_new_version_replaces_the_item_and_is_unread_again_an_older_one_changes_nothing(w):
    member = w.recipient("/1/2/3/4/")
    document = publish(w, "/1/2/", title="Nghị quyết v1")
    [item] = inbox.inbox(w.session, member)["items"]
    with w.uow.transaction():
        assert inbox.mark_read(w.uow, member, item["id"]) == {"marked": 1}
        assert inbox.mark_read(w.uow, member, item["id"]) == {"marked": 0}
    publish(w, "/1/2/", document_id=document, version=2, title="Nghị quyết v2")
    publish(w, "/1/2/", document_id=document, version=1, title="Nghị quyết v1")  # late: older than what is held
    [again] = inbox.inbox(w.session, member)["items"]
    assert (again["id"], again["title"], again["read"]) == (item["id"], "Nghị quyết v2", False)


def test_ids_of_the_two_kinds_never_collide_and_one_cursor_pages_through_both_newest_first(w):
    member, other = w.recipient("/1/2/3/4/"), w.recipient("/1/2/3/4/")
    start = utcnow() - timedelta(hours=1)
    expected = []
    for n in range(4):
        expected.append(("publication", publish(w, "/1/2/", at=start + timedelta(minutes=10 * n))))
        tell(w, member, event_id=f"event-{n}")
        with w.uow.transaction() as session:  # told five minutes after the publication
            session.execute(
                update(Notification)
                .where(Notification.event_id == f"event-{n}")
                .values(created_at=start + timedelta(minutes=10 * n + 5))
            )
        expected.append(("notification", f"event-{n}"))
    tell(w, other, event_id="event-x")
    publish(w, "/1/9/")  # another province's
    seen, cursor = [], None
    while True:
        page = inbox.inbox(w.session, member, cursor=cursor, limit=3)
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    times = [item["created_at"] for item in seen]
    assert len(seen) == 8 and times == sorted(times, reverse=True)
    assert len({item["id"] for item in seen}) == 8
    assert [item["kind"] for item in seen][::2] == ["notification"] * 4  # each message came after its publication
    assert {item["document_id"] for item in seen} - {None} == {d for kind, d in expected if kind == "publication"}
    assert all(item["id"] >= publications.PUBLICATION_IDS for item in seen if item["kind"] == "publication")
    assert inbox.inbox(w.session, member)["unread"] == 8
    for altered in ("not-a-cursor", encode_cursor("yesterday", 1), encode_cursor(times[0], 2**60)):
        with pytest.raises(ValidationError):
            inbox.inbox(w.session, member, cursor=altered)


def test_reading_marks_either_kind_and_unread_pages_through_what_is_left(w):
    member, outsider = w.recipient("/1/2/3/4/"), w.recipient("/1/9/10/11/")
    publish(w, "/1/2/"), tell(w, member, event_id="event-1"), publish(w, "/1/2/")
    newest, message, oldest = inbox.inbox(w.session, member)["items"]
    with w.uow.transaction():
        assert inbox.mark_read(w.uow, member, newest["id"]) == {"marked": 1}
    with pytest.raises(NotFound):  # not in the outsider's inbox: not theirs to know of
        with w.uow.transaction():
            inbox.mark_read(w.uow, outsider, oldest["id"])
    for nothing in (publications.PUBLICATION_IDS + 999, 2**53 - 1, 2**40):
        with pytest.raises(NotFound):
            with w.uow.transaction():
                inbox.mark_read(w.uow, member, nothing)
    unread = inbox.inbox(w.session, member, unread=True)
    assert [i["id"] for i in unread["items"]] == [message["id"], oldest["id"]] and unread["unread"] == 2
    assert [i["id"] for i in inbox.inbox(w.session, member, unread=True, limit=1)["items"]] == [message["id"]]
    with w.uow.transaction():
        assert inbox.mark_read(w.uow, member) == {"marked": 2}
    assert inbox.inbox(w.session, member)["unread"] == 0
    assert inbox.inbox(w.session, outsider)["unread"] == 0


# --- the push ------------------------------------------------------------------------------------------------------


def drain(world, limit=None):
    return drain_pushes(world.uow, limit)


def pushed(world, status="pending"):
    return sorted(
        world.session.scalars(
            select(Delivery.member_id).where(Delivery.channel.like("push:%"), Delivery.status == status)
        ).all()
    )


def test_the_push_goes_to_the_audiences_devices_at_bulk_priority_by_preference(w):
    phone, quiet, no_device, outside = (w.recipient("/1/2/3/4/") for _ in range(4))
    studious = w.recipient("/1/2/3/5/")
    outside = w.recipient("/1/9/10/11/")
    for member in (phone, quiet, studious, outside):
        w.device(member)
    prefer(w, quiet, ("announcements", "push", False))
    prefer(w, studious, ("study", "push", False))
    publish(w, "/1/2/", category="resolution")
    drain(w)
    assert pushed(w) == [phone, studious]
    assert {d.priority for d in w.session.scalars(select(Delivery))} == {publications.BULK}
    publish(w, "/1/2/", category="study", study=True)
    drain(w)
    assert pushed(w) == [phone, phone, quiet, studious]
    texts = {d.subject for d in w.session.scalars(select(Delivery))}
    assert any(t.startswith("Tài liệu học tập mới: ") for t in texts) and no_device not in pushed(w)


def test_a_large_audience_is_pushed_in_batches_each_member_once(w):
    members = [w.recipient(f"/1/2/3/{4 + n % 3}/") for n in range(10)]
    for member in members:
        w.device(member)
    w.device(members[0], platform="web")  # two devices: two pushes
    document = publish(w, "/1/2/")
    assert drain(w, limit=3) >= 4
    assert pushed(w) == sorted([*members, members[0]])
    publish(w, "/1/2/", document_id=document)  # the same publication again: nothing new
    drain(w, limit=3)
    assert len(pushed(w)) == 11


def test_a_withdrawal_expires_the_pushes_not_yet_sent(w):
    members = [w.recipient("/1/2/3/4/") for _ in range(5)]
    for member in members:
        w.device(member)
    document = publish(w, "/1/2/")
    drain(w)
    withdraw(w, document, "/1/2/")
    drain(w, limit=2)
    assert pushed(w) == [] and pushed(w, "expired") == members


def test_english_readers_get_the_push_in_english(w):
    member = w.recipient("/1/2/3/4/", language="en")
    w.device(member)
    publish(w, "/1/2/", title="Resolution 57")
    drain(w)
    assert w.session.scalar(select(Delivery.subject)) == "New document: Resolution 57"


def test_operators_see_a_fan_out_under_way_and_pushes_counted_as_one_channel(w):
    from services.notify.operations import summary

    for member in (w.recipient("/1/2/3/4/") for _ in range(3)):
        w.device(member), w.device(member, platform="web")
    document = publish(w, "/1/2/")
    [under_way] = summary(w.session)["push_fan_outs_under_way"]
    assert (under_way["event_id"], under_way["status"], under_way["queued"]) == (
        f"publication:{document}:1",
        "running",
        0,
    )
    drain(w)
    w.session.expire_all()
    report = summary(w.session)
    assert report["push_fan_outs_under_way"] == [] and report["by_channel_and_status"]["push/pending"] == 6


def test_what_a_member_read_is_in_their_export_and_goes_with_their_erasure(w):
    from shared.auth import Principal
    from services.notify import privacy

    member, administrator = w.recipient("/1/2/3/4/"), w.recipient("/1/")
    document = publish(w, "/1/2/")
    [item] = inbox.inbox(w.session, member)["items"]
    with w.uow.transaction():
        inbox.mark_read(w.uow, member, item["id"])
    exported = privacy.export(w.session, Principal(member_id=member, citizen_id="", session_id="s"), member)
    assert [(r["document_id"], r["version"]) for r in exported["publications_read"]] == [(document, 1)]
    with w.uow.transaction():
        erased = privacy.erase(w.uow, Principal(member_id=administrator, citizen_id="", session_id="s"), member, "x")
    assert erased["publications_read"] == 1
    assert inbox.inbox(w.session, member)["items"] == []  # nobody notify knows of any more


def audience_of(world, members, start):
    """`members` recipients with a device each, 50 to a branch (a batch still reads the rest of the branch it
    stopped in: the path index orders a branch's members, not the paths and ids together), written in bulk."""
    from services.notify.models import Device, Recipient

    rows = range(start, start + members)
    with world.uow.transaction() as session:
        session.execute(
            insert(Recipient),
            [
                {
                    "member_id": n,
                    "full_name": f"Đảng viên {n}",
                    "organization_id": n // 50,
                    "organization_path": f"/1/2/3/{n // 50}/",
                    "status": "official",
                    "language": "vi",
                    "activated": True,
                    "in_party": True,
                }
                for n in rows
            ],
        )
        session.execute(insert(Device), [{"member_id": n, "platform": "android", "token": f"t{n}"} for n in rows])


def test_a_push_batch_reads_its_own_members_not_the_rest_of_the_audience(w):
    # Found at 5.6 M members: each batch of a national push scanned the audience from where it stood to its end (the
    # range's upper bound was the audience's, not the batch's), so a batch took ~0.8 s and codes waited behind it.
    audience_of(w, 1_000, start=100_000)
    publish(w, "/1/")
    few = sqlite_steps(w, lambda session: publications.push_batch(session, limit=100))
    audience_of(w, 30_000, start=200_000)
    publish(w, "/1/")
    many = sqlite_steps(w, lambda session: publications.push_batch(session, limit=100))
    assert many <= few * 1.5 + 2, (few, many)
