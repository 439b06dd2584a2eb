"""Votes, opinions and minutes in the meetings domain; what a secret vote leaves in the database."""

from datetime import timedelta

import pytest
from sqlalchemy import inspect, text

from shared.contracts.meetings import AlreadyVoted, EditWindowPassed, MeetingClosed
from shared.contracts.members import SECRETARY
from shared.db import utcnow
from shared.errors import Forbidden, NotFound
from services.meetings import attendance, discussion, domain, listing, minutes, voting
from tests.support.worlds import published


@pytest.fixture
def meeting(meetings_world):
    """A branch meeting under way: a secretary, two official members, a probationary one; an outsider."""
    world = meetings_world
    *_, path = world.chain()
    people = {
        "secretary": world.member(path, (SECRETARY, path)),
        "a": world.member(path),
        "b": world.member(path),
        "probationary": world.member(path, status="probationary"),
        "outsider": world.member(world.organization()),
    }
    meeting_id = world.schedule(people["secretary"], path, starts_at=utcnow() + timedelta(minutes=10))["id"]
    with world.uow.transaction():
        domain.start_meeting(world.uow, people["secretary"], meeting_id)
    return {"id": meeting_id, **people}


def _do(world, function, *args, **kwargs):
    with world.uow.transaction():
        return function(world.uow, *args, **kwargs)


def _vote(world, meeting, **fields):
    data = {"question": "Thông qua nghị quyết?", "secret": False, "eligible": "official", "options": None, **fields}
    return _do(world, voting.create_vote, meeting["secretary"], meeting["id"], data)


def test_a_secret_vote_counts_without_any_link_from_member_to_choice(meetings_world, meeting):
    world = meetings_world
    vote = _vote(world, meeting, secret=True)
    assert vote["options"] == ["agree", "disagree", "abstain"]
    for who, choice in (("a", "agree"), ("b", "disagree"), ("secretary", "agree")):
        assert _do(world, voting.cast_ballot, meeting[who], vote["id"], choice) == {"vote_id": vote["id"], "cast": True}
    with pytest.raises(AlreadyVoted):
        _do(world, voting.cast_ballot, meeting["a"], vote["id"], "abstain")

    tables = inspect(world.uow.provider.engine)
    assert {c["name"] for c in tables.get_columns("voters")} == {"vote_id", "member_id"}
    assert {c["name"] for c in tables.get_columns("tallies")} == {"vote_id", "choice", "count"}
    with pytest.raises(Exception, match="rowid"):  # no hidden insertion order either (WITHOUT ROWID)
        world.session.execute(text("SELECT rowid FROM voters"))
    world.session.rollback()
    assert world.session.execute(text("SELECT count(*) FROM open_ballots")).scalar() == 0
    tallies = dict(world.session.execute(text("SELECT choice, count FROM tallies")).all())
    assert tallies == {"agree": 2, "disagree": 1, "abstain": 0}

    assert voting.get_vote(world.session, meeting["a"], vote["id"])["results"] is None  # never while open
    closed = _do(world, voting.close_vote, meeting["secretary"], vote["id"])
    assert closed["results"] == {
        "counts": {"agree": 2, "disagree": 1, "abstain": 0},
        "eligible": 3,
        "cast": 3,
        "present": 0,
        "quorum_met": False,
    }
    (event,) = published(world.uow, "meetings.vote_closed")
    assert event["counts"] == closed["results"]["counts"] and "member_id" not in str(event)


def test_probationary_members_do_not_vote_on_official_only_votes_and_outsiders_never_know(meetings_world, meeting):
    world = meetings_world
    officials_only = _vote(world, meeting)
    with pytest.raises(Forbidden):
        _do(world, voting.cast_ballot, meeting["probationary"], officials_only["id"], "agree")
    with pytest.raises(NotFound):
        _do(world, voting.cast_ballot, meeting["outsider"], officials_only["id"], "agree")
    with pytest.raises(NotFound):
        voting.get_vote(world.session, meeting["outsider"], officials_only["id"])
    everyone = _vote(world, meeting, eligible="all", options=["A", "B"])
    _do(world, voting.cast_ballot, meeting["probationary"], everyone["id"], "B")


def test_plain_members_do_not_run_votes(meetings_world, meeting):
    with pytest.raises(Forbidden):
        _do(
            meetings_world,
            voting.create_vote,
            meeting["a"],
            meeting["id"],
            {"question": "?", "secret": False, "eligible": "all", "options": None},
        )


def test_the_quorum_is_more_than_half_of_the_official_members_present(meetings_world, meeting):
    world = meetings_world
    vote = _vote(world, meeting)
    for who in ("a", "b"):  # two of three official members, and the probationary one
        _do(world, attendance.check_in, meeting["secretary"], meeting["id"], {"member_id": meeting[who]})
    _do(world, attendance.check_in, meeting["secretary"], meeting["id"], {"member_id": meeting["probationary"]})
    results = _do(world, voting.close_vote, meeting["secretary"], vote["id"])["results"]
    assert (results["present"], results["eligible"], results["quorum_met"]) == (3, 3, True)


def test_opinions_edit_for_five_minutes_and_a_hidden_one_keeps_who_hid_it(meetings_world, meeting):
    world, now = meetings_world, utcnow()
    data = {"body": "Đề nghị bổ sung chỉ tiêu", "agenda_item_id": None, "reply_to": None}
    opinion = _do(world, discussion.add_opinion, meeting["a"], meeting["id"], data, now=now)
    reply = _do(world, discussion.add_opinion, meeting["b"], meeting["id"], {**data, "reply_to": opinion["id"]})
    assert reply["reply_to"] == opinion["id"]
    assert _do(world, discussion.edit_opinion, meeting["a"], opinion["id"], "Sửa", now=now + timedelta(minutes=4))
    with pytest.raises(EditWindowPassed):
        _do(world, discussion.edit_opinion, meeting["a"], opinion["id"], "Muộn", now=now + timedelta(minutes=6))
    with pytest.raises(Forbidden):
        _do(world, discussion.moderate, meeting["b"], opinion["id"], hidden=True)
    hidden = _do(world, discussion.moderate, meeting["secretary"], opinion["id"], hidden=True)
    assert hidden["hidden_by"] == meeting["secretary"] and hidden["body"] == "Sửa"
    seen = discussion.list_opinions(world.session, meeting["b"], meeting["id"], {"cursor": None, "limit": 50})
    assert [(o["hidden"], o["body"]) for o in seen["items"]] == [(True, None), (False, data["body"])]
    with pytest.raises(NotFound):
        discussion.list_opinions(world.session, meeting["outsider"], meeting["id"], {"cursor": None, "limit": 50})


def test_minutes_are_published_once_the_meeting_took_place_and_read_by_invitees(meetings_world, meeting):
    world = meetings_world
    body = {"body": "Biên bản", "resolutions": ["Nghị quyết 1"]}
    with pytest.raises(Forbidden):
        minutes.publish_minutes(world.uow, meeting["a"], meeting["id"], body, nobody_asked)
    minutes.publish_minutes(world.uow, meeting["secretary"], meeting["id"], body, nobody_asked)
    read = minutes.get_minutes(world.session, meeting["b"], meeting["id"])
    assert read["resolutions"] == ["Nghị quyết 1"] and read["papers"] == []
    with pytest.raises(NotFound):
        minutes.get_minutes(world.session, meeting["outsider"], meeting["id"])
    (event,) = published(world.uow, "meetings.minutes_published")
    assert event["resolutions"] == ["Nghị quyết 1"] and event["document_ids"] == []


def nobody_asked(organization_path, document_ids):
    raise AssertionError("minutes without documents ask content nothing")


def test_an_invitees_version_of_the_meeting_changes_with_what_its_screen_shows_and_each_change_is_said(
    meetings_world, meeting
):
    """The portal reads a running meeting's votes, minutes and opinions only when the meeting's version changed
    (services/gateway/portal/assets/meetings.js); the gateway forgets it on meetings' events of its organisation."""
    world = meetings_world
    organization_id = world.meeting(meeting["id"]).organization_id
    versions = []

    def changed(who="b"):
        """Whether `who`'s version changed since their last look, and a meetings event told the organisation."""
        version = listing.get_meeting(world.session, meeting[who], meeting["id"])["version"]
        told = [e for e in published(world.uow, "meetings.meeting_updated") if e["organization_id"] == organization_id]
        new = (version, len(told)) if not versions else (version != versions[-1][0], len(told) > versions[-1][1])
        versions.append((version, len(told)))
        return new

    changed()
    assert changed() == (False, False)  # nothing happened: the same version, so the portal reads nothing more
    vote = _vote(world, meeting, secret=True)
    assert changed() == (True, True)
    _do(world, voting.cast_ballot, meeting["a"], vote["id"], "agree")
    assert changed() == (False, False)  # another's ballot shows nothing to b while the vote is open: no event
    _do(world, voting.cast_ballot, meeting["b"], vote["id"], "agree")
    # b's own: "my ballot cast"; b's write through the gateway forgets b's versions there, nobody else's changed
    assert changed() == (True, False)
    open_vote = _vote(world, meeting)
    assert changed() == (True, True)
    _do(world, voting.cast_ballot, meeting["b"], open_vote["id"], "disagree")
    assert changed() == (True, False)
    _do(world, voting.close_vote, meeting["secretary"], vote["id"])
    assert changed() == (True, True)  # its results

    data = {"body": "Đề nghị bổ sung chỉ tiêu", "agenda_item_id": None, "reply_to": None}
    opinion = _do(world, discussion.add_opinion, meeting["a"], meeting["id"], data)
    assert changed() == (True, True)
    _do(world, discussion.edit_opinion, meeting["a"], opinion["id"], "Sửa")
    assert changed() == (True, True)
    _do(world, discussion.moderate, meeting["secretary"], opinion["id"], pinned=True)
    assert changed() == (True, True)
    _do(world, discussion.moderate, meeting["secretary"], opinion["id"], pinned=False)
    assert changed() == (True, True)
    _do(world, discussion.moderate, meeting["secretary"], opinion["id"], hidden=True)
    assert changed() == (True, True)

    minutes.publish_minutes(world.uow, meeting["secretary"], meeting["id"], {"body": "BB", "resolutions": []}, None)
    version = listing.get_meeting(world.session, meeting["b"], meeting["id"])["version"]
    assert version != versions[-1][0]
    (event,) = published(world.uow, "meetings.minutes_published")  # the gateway forgets on it as well
    assert event["organization_id"] == organization_id


def test_a_cancelled_meeting_tells_its_invitees_and_takes_no_more_answers(meetings_world, meeting):
    world = meetings_world
    secretary = meeting["secretary"]
    later = world.schedule(secretary, world.meeting(meeting["id"]).organization_path)["id"]
    cancelled = _do(world, domain.cancel_meeting, secretary, later, "Bão")
    assert cancelled["status"] == "cancelled" and cancelled["cancel_reason"] == "Bão"
    (event,) = published(world.uow, "meetings.meeting_cancelled")
    assert event["reason"] == "Bão" and meeting["a"] in event["invitees"]
    with pytest.raises(MeetingClosed):
        _do(world, domain.update_meeting, secretary, later, {"title": "Khác"})


def test_a_check_in_moves_the_meetings_version_not_its_screens_activity(meetings_world, meeting):
    """The portal reads votes, opinions and minutes again only when `activity` moved: at the peak a branch's
    check-ins (~1.3 a minute) would otherwise make most looks read all four (bench/CAPACITY.md)."""
    world = meetings_world

    def seen():
        answer = listing.get_meeting(world.session, meeting["b"], meeting["id"])
        return answer["version"], answer["activity"]

    version, activity = seen()
    _do(world, attendance.check_in, meeting["secretary"], meeting["id"], {"member_id": meeting["a"]})
    after_check_in = seen()
    assert after_check_in[0] != version and after_check_in[1] == activity
    data = {"body": "Ý kiến", "agenda_item_id": None, "reply_to": None}
    _do(world, discussion.add_opinion, meeting["a"], meeting["id"], data)
    assert seen()[1] != activity
    officer = listing.get_meeting(world.session, meeting["secretary"], meeting["id"])
    assert "activity" in officer  # an officer not invited: no version, the activity all the same


def test_any_pin_or_unpin_moves_the_screens_activity_even_when_the_pinned_ids_add_up_the_same(meetings_world, meeting):
    """Between two looks (15 s) a runner unpins the 1st and 4th opinions and pins the 2nd and 3rd: the same sum of
    pinned ids as before, and the pinned ones on the screen are not the same."""
    world = meetings_world
    data = {"body": "Ý kiến", "agenda_item_id": None, "reply_to": None}
    ids = [_do(world, discussion.add_opinion, meeting["a"], meeting["id"], data)["id"] for _ in range(4)]

    def activity():
        return listing.get_meeting(world.session, meeting["b"], meeting["id"])["activity"]

    for n in (0, 3):
        _do(world, discussion.moderate, meeting["secretary"], ids[n], pinned=True)
    before = activity()
    for n, pinned in ((0, False), (3, False), (1, True), (2, True)):
        _do(world, discussion.moderate, meeting["secretary"], ids[n], pinned=pinned)
    assert ids[0] + ids[3] == ids[1] + ids[2] and activity() != before
    again = activity()
    _do(world, discussion.moderate, meeting["secretary"], ids[1], pinned=True)  # already pinned: nothing changed
    assert activity() == again
