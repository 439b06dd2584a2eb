"""Meetings' events told to their invitees (services/notify/meeting_messages.py): an inbox item and messages by
preference, in Vietnamese or English, times in Vietnam's; nobody twice; nobody outside Sổ tay's rollout."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from shared.events import envelope
from services.notify import inbox, meeting_messages
from services.notify.models import Delivery, Notification, directory
from tests.unit.test_notify_domain import prefer

STARTS = datetime(2026, 12, 5, 12, 30, tzinfo=UTC)  # 19:30 in Hà Nội


def facts(invitees, **more):
    return {
        "meeting_id": 7,
        "organization_id": 4,
        "organization_path": "/1/2/3/4/",
        "kind": "regular",
        "title": "Sinh hoạt chi bộ tháng 12",
        "starts_at": STARTS.isoformat(),
        "ends_at": STARTS.replace(hour=14).isoformat(),
        "location": "Hội trường khu phố 1",
        "online_url": None,
        "invitees": invitees,
        **more,
    }


def happen(world, event_type, payload, event=None):
    event = event or envelope(event_type, payload)
    with world.uow.transaction() as session:
        return meeting_messages.tell_invitees(session, event)


def told(world, member_id):
    return world.session.scalars(
        select(Notification).where(Notification.member_id == member_id).order_by(Notification.id)
    ).all()


@pytest.fixture
def w(notify_world):
    notify_world.rollout("/1/2/", "pilot")
    return notify_world


def test_an_invitation_reaches_every_invitee_in_their_language_in_vietnam_time(w):
    lan, john = w.recipient(), w.recipient(language="en")
    assert happen(w, "meetings.meeting_scheduled", facts([lan, john])) == 2
    [item] = inbox.inbox(w.session, lan)["items"]
    assert item["title"] == "Giấy mời họp: Sinh hoạt chi bộ tháng 12"
    assert "19:30 ngày 05/12/2026" in item["body"] and "Hội trường khu phố 1" in item["body"]
    assert (item["category"], item["meeting_id"]) == ("meetings", 7)
    assert "19:30, 5 Dec 2026 (Vietnam time)" in told(w, john)[0].body
    channels = sorted(d.channel for d in w.session.scalars(select(Delivery).where(Delivery.member_id == lan)))
    assert channels == ["email", "sms"]


def test_each_kind_of_message_says_what_happened(w):
    member = w.recipient()
    happen(w, "meetings.meeting_changed", facts([member], changed=["starts_at"]))
    happen(w, "meetings.meeting_cancelled", facts([member], reason="Trùng lịch họp của đảng uỷ"))
    happen(w, "meetings.reminder_time_reached", facts([member], lead="24h"))
    happen(w, "meetings.reminder_time_reached", facts([member], lead="1h"))
    happen(w, "meetings.minutes_published", facts([member], resolutions=["Thông qua kế hoạch"]))
    titles = [n.title.split(":")[0] for n in told(w, member)]
    assert titles == ["Thay đổi cuộc họp", "Huỷ cuộc họp", "Nhắc lịch họp", "Sắp họp", "Biên bản cuộc họp"]
    assert told(w, member)[1].body.endswith("Lý do: Trùng lịch họp của đảng uỷ")


def test_nothing_is_told_twice_not_even_a_reminder_sent_again_under_another_event(w):
    member = w.recipient()
    event = envelope("meetings.meeting_scheduled", facts([member, member]))
    happen(w, None, None, event)
    happen(w, None, None, event)
    happen(w, "meetings.reminder_time_reached", facts([member], lead="1h"))
    assert happen(w, "meetings.reminder_time_reached", facts([member], lead="1h")) == 0
    later = facts([member], lead="1h", starts_at=STARTS.replace(day=6).isoformat())  # rescheduled: reminded again
    assert happen(w, "meetings.reminder_time_reached", later) == 1
    assert len(told(w, member)) == 3
    assert len(w.session.scalars(select(Delivery).where(Delivery.member_id == member)).all()) == 6  # SMS, e-mail


def test_preferences_for_meetings_are_kept(w):
    member = w.recipient()
    w.device(member)
    prefer(w, member, ("meetings", "sms", False), ("meetings", "email", False))
    happen(w, "meetings.meeting_scheduled", facts([member]))
    channels = [d.channel for d in w.session.scalars(select(Delivery).where(Delivery.member_id == member))]
    assert [c.split(":")[0] for c in channels] == ["push"] and len(told(w, member)) == 1


def test_who_is_outside_sotay_or_the_party_or_unknown_hears_nothing(w):
    disabled = w.recipient(path="/1/9/10/11/")
    left = w.recipient(status="resigned")
    assert happen(w, "meetings.meeting_scheduled", facts([disabled, left, 404])) == 0
    assert w.session.scalars(select(Notification)).all() == []


def flagged(member_id, **more):
    return {
        "member_id": member_id,
        "organization_id": 4,
        "organization_path": "/1/2/3/4/",
        "count": 3,
        "meeting_ids": [11, 12, 13],
        "since": STARTS.replace(year=2025).isoformat(),
        **more,
    }


def appoint(world, member_id, role, path="/1/2/3/4/"):
    payload = {
        "member_id": member_id,
        "organization_id": int(path.rstrip("/").rsplit("/", 1)[1]),
        "organization_path": path,
        "role": role,
        "action": "assigned",
    }
    with world.uow.transaction() as session:
        directory.position_changed(session, envelope("members.position_changed", payload))


def test_absences_flagged_reach_the_secretary_and_deputies_of_the_branch_in_the_inbox_only_once(w):
    absent, secretary, deputy, member = w.recipient(), w.recipient(), w.recipient(language="en"), w.recipient()
    commune_secretary = w.recipient(path="/1/2/3/")
    appoint(w, secretary, "secretary")
    appoint(w, deputy, "deputy_secretary")
    appoint(w, member, "committee_member")
    appoint(w, commune_secretary, "secretary", "/1/2/3/")
    event = envelope("meetings.absences_flagged", flagged(absent))
    for _ in range(2):
        with w.uow.transaction() as session:
            meeting_messages.tell_secretaries(session, event)
    [item] = told(w, secretary)
    assert item.title == f"Đảng viên vắng sinh hoạt: Đảng viên Thử {absent}" and "3 buổi" in item.body
    assert item.category == "meetings"
    assert told(w, deputy)[0].title.startswith("Member absent from meetings")
    assert not told(w, absent) and not told(w, member) and not told(w, commune_secretary)
    # an inbox item, no SMS: a matter for the committee, not an alert
    assert not w.session.scalars(
        select(Delivery).where(Delivery.member_id == secretary, Delivery.channel == "sms")
    ).all()
