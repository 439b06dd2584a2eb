"""notify's domain (services/notify/domain.py): who hears what on which channel, a member's preferences, the
inbox and its pages, a committee going live, and the order and lease in which deliveries are sent."""

from datetime import timedelta

import pytest
from sqlalchemy import insert, select

from shared.db import utcnow
from shared.errors import NotFound, ValidationError
from services.notify import domain, inbox
from services.notify.models import Delivery, Notification


def deliveries(world, member_id):
    return sorted(d.channel for d in world.session.scalars(select(Delivery).where(Delivery.member_id == member_id)))


def tell(world, member_id, kind="transfer_issued", event_id="event-1", **values):
    with world.uow.transaction() as session:
        return domain.notify_member(session, event_id, member_id, kind, **values)


def prefer(world, member_id, *items, language=None):
    with world.uow.transaction():
        return domain.set_preferences(
            world.uow, member_id, [{"category": c, "channel": ch, "enabled": on} for c, ch, on in items], language
        )


def test_a_member_hears_on_every_channel_they_can_be_reached_on(notify_world):
    member = notify_world.recipient()
    phone, tablet = notify_world.device(member), notify_world.device(member, platform="web")
    assert tell(notify_world, member)
    assert deliveries(notify_world, member) == sorted(["sms", "email", f"push:{phone['id']}", f"push:{tablet['id']}"])
    assert [item["title"] for item in inbox.inbox(notify_world.session, member)["items"]] == [
        "Giấy chuyển sinh hoạt đảng"
    ]


def test_a_channel_switched_off_is_not_used_but_the_inbox_still_has_it(notify_world):
    member = notify_world.recipient()
    prefer(notify_world, member, ("records", "sms", False))
    tell(notify_world, member)
    assert deliveries(notify_world, member) == ["email"]
    assert inbox.inbox(notify_world.session, member)["unread"] == 1


def test_security_messages_come_whatever_the_preferences_and_cannot_be_switched_off(notify_world):
    member = notify_world.recipient()
    prefer(notify_world, member, ("announcements", "sms", False), ("announcements", "email", False))
    with pytest.raises(ValidationError):
        prefer(notify_world, member, ("security", "sms", False))
    tell(notify_world, member, kind="account_activated")
    assert deliveries(notify_world, member) == ["email", "sms"]
    stored = domain.preferences(notify_world.session, member)["items"]
    assert {(i["category"], i["channel"]): (i["enabled"], i["mandatory"]) for i in stored if i["channel"] == "sms"} == {
        ("announcements", "sms"): (False, False),
        ("records", "sms"): (True, False),
        ("meetings", "sms"): (True, False),
        ("study", "sms"): (True, False),
        ("security", "sms"): (True, True),
    }


def test_the_same_event_reaches_a_member_once(notify_world):
    member = notify_world.recipient()
    assert tell(notify_world, member) and tell(notify_world, member) is None
    assert len(deliveries(notify_world, member)) == 2
    assert inbox.inbox(notify_world.session, member)["unread"] == 1


def test_nobody_notify_does_not_know_of_is_told_anything(notify_world):
    assert tell(notify_world, 404) is None
    assert notify_world.session.scalars(select(Notification)).all() == []


def test_a_member_who_chose_english_reads_english(notify_world):
    member = notify_world.recipient(language="en")
    tell(notify_world, member, kind="change_request_rejected", reason="illegible")
    item = inbox.inbox(notify_world.session, member)["items"][0]
    assert (item["title"], item["body"]) == (
        "Change not approved",
        "Your branch did not approve the change to your record: illegible",
    )
    assert domain.preferences(notify_world.session, member)["language"] == "en"


def invitations(world, member_id):
    return world.session.scalars(
        select(Notification).where(Notification.member_id == member_id, Notification.category == "announcements")
    ).all()


def test_going_live_invites_those_below_who_have_not_signed_in_once_each(notify_world):
    w = notify_world
    waiting, english = w.recipient(activated=False), w.recipient(activated=False, language="en")
    quiet = w.recipient(activated=False)
    prefer(w, quiet, ("announcements", "sms", False))
    phoneless = w.recipient(activated=False, phone=None)
    signed_in, left = w.recipient(), w.recipient(activated=False, status="resigned")
    elsewhere = w.recipient(path="/1/9/10/11/", activated=False)  # another province's branch
    with w.uow.transaction() as session:
        assert domain.invite_subtree(session, "/1/2/") == (4, 2)  # inbox items, text messages
        assert domain.invite_subtree(session, "/1/2/") == (0, 0)  # the rollout event again
    for member in (waiting, english, quiet, phoneless):
        assert len(invitations(w, member)) == 1
    for member in (signed_in, left, elsewhere):
        assert invitations(w, member) == []
    assert deliveries(w, quiet) == [] and deliveries(w, phoneless) == []
    assert invitations(w, english)[0].title == "Sổ tay is here"


def test_who_arrives_under_a_live_committee_is_invited_on_arrival(notify_world):
    notify_world.go_live("/1/2/")
    newcomer = notify_world.recipient(path="/1/2/3/7/", activated=False)
    outside = notify_world.recipient(path="/1/5/", activated=False)
    assert len(invitations(notify_world, newcomer)) == 1 and invitations(notify_world, outside) == []
    notify_world.rollout("/1/2/", "pilot")  # the committee steps back from live: nobody new is invited
    assert invitations(notify_world, notify_world.recipient(path="/1/2/3/8/", activated=False)) == []


def two_inboxes(world, items):
    """A member with `items` notifications, and another member with one."""
    member, other = world.recipient(), world.recipient()
    for n in range(items):
        tell(world, member, event_id=f"event-{n}")
    tell(world, other, event_id="event-0")
    return member, other


def test_the_inbox_pages_newest_first_and_counts_what_is_unread(notify_world):
    member, _ = two_inboxes(notify_world, 5)
    session = notify_world.session
    first = inbox.inbox(session, member, limit=2)
    second = inbox.inbox(session, member, cursor=first["next_cursor"], limit=2)
    last = inbox.inbox(session, member, cursor=second["next_cursor"], limit=2)
    pages = [[item["id"] for item in page["items"]] for page in (first, second, last)]
    ids = [i for page in pages for i in page]
    assert [len(page) for page in pages] == [2, 2, 1] and ids == sorted(ids, reverse=True)
    assert last["next_cursor"] is None and first["unread"] == 5
    with pytest.raises(ValidationError):
        inbox.inbox(session, member, cursor="not-a-cursor")


def test_reading_marks_ones_own_items_only(notify_world):
    member, other = two_inboxes(notify_world, 3)
    session = notify_world.session
    newest = inbox.inbox(session, member)["items"][0]["id"]
    theirs = inbox.inbox(session, other)["items"][0]["id"]
    with notify_world.uow.transaction():
        assert inbox.mark_read(notify_world.uow, member, newest) == {"marked": 1}
    with pytest.raises(NotFound):  # another member's item is not one to know of
        with notify_world.uow.transaction():
            inbox.mark_read(notify_world.uow, member, theirs)
    unread = inbox.inbox(session, member, unread=True)
    assert newest not in [item["id"] for item in unread["items"]] and unread["unread"] == 2
    assert inbox.inbox(session, other)["unread"] == 1
    with pytest.raises(NotFound):
        with notify_world.uow.transaction():
            inbox.mark_read(notify_world.uow, member, 10_000)
    with notify_world.uow.transaction():
        assert inbox.mark_read(notify_world.uow, member) == {"marked": 2}


def test_a_device_is_registered_once_however_often_the_app_says_so(notify_world):
    member = notify_world.recipient()
    first = notify_world.device(member, token="fcm-1")
    assert notify_world.device(member, token="fcm-1") == first
    assert notify_world.device(member, token="fcm-2") != first


def due(world):
    """What a sender claims now (a sender's session is fresh: it holds no rows loaded before)."""
    world.session.expunge_all()
    with world.uow.transaction() as session:
        return domain.due_deliveries(session)


def store_code(world, request_id, lease=domain.LEASE):
    """A code as identity hands it over: stored sealed, its first send under way for `lease`."""
    with world.uow.transaction() as session:
        expires = utcnow() + timedelta(minutes=5)
        return domain.code_delivery(session, request_id, "+84950000999", f"mã {request_id}", expires, lease).id


def test_a_code_waiting_for_a_retry_goes_before_everything_else(notify_world):
    member = notify_world.recipient()
    tell(notify_world, member)
    code_id = store_code(notify_world, "100001")
    with notify_world.uow.transaction() as session:  # its first send failed; the back-off has passed
        domain.record_outcomes(session, [(code_id, "sms gateway: timeout")])
        session.get(Delivery, code_id).next_attempt_at = utcnow()
    batch = due(notify_world)
    assert [(claimed[0], claimed[4]) for claimed in batch][:1] == [(code_id, "mã 100001")]  # unsealed to be sent
    assert [claimed[1] for claimed in batch[1:]] == ["sms", "email"]
    assert due(notify_world) == []  # all under a live lease now


def test_a_code_whose_sender_died_is_taken_over_once_its_lease_lapses(notify_world):
    dead = store_code(notify_world, "100002", lease=timedelta(seconds=-1))
    store_code(notify_world, "100003")  # its sender is still at it
    assert [claimed[0] for claimed in due(notify_world)] == [dead]


def test_a_failure_is_retried_later_then_given_up_and_a_code_erased(notify_world):
    code_id = store_code(notify_world, "654321")  # the first attempt is made as the code is stored
    for attempt in range(1, domain.MAX_ATTEMPTS + 1):
        with notify_world.uow.transaction() as session:
            failed = domain.record_outcomes(session, [(code_id, "sms gateway: 503")])
            row = session.get(Delivery, code_id)
            status = row.status
        if attempt < domain.MAX_ATTEMPTS:
            assert (status, failed, due(notify_world)) == ("pending", [], [])  # backed off
            with notify_world.uow.transaction() as session:
                session.get(Delivery, code_id).next_attempt_at = utcnow()  # the back-off has passed
            assert [(claimed[0], claimed[5]) for claimed in due(notify_world)] == [(code_id, attempt + 1)]
    assert [f.id for f in failed] == [code_id]
    assert (failed[0].status, failed[0].text, failed[0].last_error) == ("failed", "", "sms gateway: 503")
    assert due(notify_world) == []


@pytest.mark.parametrize(
    ("first_retry", "waits"), [(domain.FIRST_RETRY, [2, 4, 8, 16]), (timedelta(seconds=0.5), [0.5, 1, 2, 4])]
)
def test_each_retry_waits_twice_as_long_as_the_one_before(notify_world, first_retry, waits):
    code_id = store_code(notify_world, "654322")
    for wait in waits:
        with notify_world.uow.transaction() as session:
            before = utcnow()
            domain.record_outcomes(session, [(code_id, "sms gateway: 503")], first_retry)
            after, row = utcnow(), session.get(Delivery, code_id)
            assert before + timedelta(seconds=wait) <= row.next_attempt_at <= after + timedelta(seconds=wait)
            row.next_attempt_at, row.attempts = utcnow(), row.attempts + 1  # the retry is made, and fails


def test_a_stopping_sender_hands_back_what_it_did_not_send_without_counting_it(notify_world):
    member = notify_world.recipient(email=None)
    tell(notify_world, member)
    [(delivery_id, *_)] = due(notify_world)
    with notify_world.uow.transaction() as session:
        domain.release(session, [delivery_id])
    [(again, *_, attempts)] = due(notify_world)
    assert (again, attempts) == (delivery_id, 1)


def queue_pushes(world, count, start=0):
    """`count` bulk pushes waiting to be sent, as a national publication's fan-out leaves millions of them."""
    with world.uow.transaction() as session:
        session.execute(
            insert(Delivery),
            [
                {
                    "event_id": "publication:1:1",
                    "member_id": n,
                    "channel": f"push:{n}",
                    "priority": 2,
                    "destination": "{}",
                    "text": "Văn bản mới",
                    "status": "pending",
                    "attempts": 0,
                }
                for n in range(start, start + count)
            ],
        )


def sqlite_steps(world, work):
    """SQLite's virtual-machine steps (in thousands) that `work(session)` takes: the database's own count of the
    rows it visited, steady where a timing is not."""
    steps = [0]

    def count():
        steps[0] += 1
        return 0

    with world.uow.transaction() as session:
        raw = session.connection().connection.driver_connection
        raw.set_progress_handler(count, 1000)
        try:
            work(session)
        finally:
            raw.set_progress_handler(None, 1000)
    return steps[0]


def test_expiring_codes_does_not_read_the_queue_of_pushes(notify_world):
    # Found at 5.6 M members: the sender looked for expired codes among every pending delivery before each batch,
    # so with a national publication's pushes queued each look read millions of rows, holding SQLite's writer.
    store_code(notify_world, "100004")
    queue_pushes(notify_world, 1_000)
    few = sqlite_steps(notify_world, domain.expire_codes)
    queue_pushes(notify_world, 30_000, start=1_000)
    many = sqlite_steps(notify_world, domain.expire_codes)
    assert many <= few + 1, (few, many)
    lapsed = store_code(notify_world, "100005")
    with notify_world.uow.transaction() as session:
        session.get(Delivery, lapsed).expires_at = utcnow() - timedelta(seconds=1)
    with notify_world.uow.transaction() as session:
        assert domain.expire_codes(session) == 1
        assert (session.get(Delivery, lapsed).status, session.get(Delivery, lapsed).text) == ("expired", "")
