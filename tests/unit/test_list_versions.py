"""What the gateway answers a conditional GET of a member's document or meeting list from
(services/gateway/versions.py): versions learnt with the tags that may change them, forgotten on content's and
meetings' events, never trusted past the moment their owner said, nor while either feed is away."""

import pytest

from shared.events import envelope
from services.gateway.versions import DOCUMENTS, LISTS, MEETING, MEETINGS, KnownVersions, ListChangesFeed

DOCS_1, DOCS_2 = (1, DOCUMENTS, ()), (2, DOCUMENTS, ())
MEET_1, MEET_2 = (1, MEETINGS, ()), (2, MEETINGS, ())


@pytest.fixture
def known(clock):
    versions = KnownVersions(trust=60.0, clock=clock, feeds=("members", LISTS))
    versions.connected("members")
    versions.connected(LISTS)
    return versions


def learn_all(known):
    """Member 1 in organisation 3 (under 1), invited to a meeting of 3; member 2 in organisation 4 (under 1)."""
    mark = known.mark()
    known.learn(1, "me1", mark)
    known.learn(DOCS_1, "d1", mark, tags=[DOCUMENTS, ("organization", 1), ("organization", 3)])
    known.learn(DOCS_2, "d2", mark, tags=[DOCUMENTS, ("organization", 1), ("organization", 4)])
    known.learn(MEET_1, "m1", mark, tags=[MEETINGS, ("meetings of", 3)])
    known.learn(MEET_2, "m2", mark, tags=[MEETINGS])


def still_known(known):
    return {key for key in (1, DOCS_1, DOCS_2, MEET_1, MEET_2) if known.current(key) is not None}


def test_nothing_is_trusted_while_either_feed_is_away(known):
    known.lost(LISTS)
    learn_all(known)
    assert still_known(known) == set()
    known.connected(LISTS)
    learn_all(known)
    known.lost("members")
    assert still_known(known) == set()


def test_a_member_change_forgets_all_of_that_members_versions(known):
    learn_all(known)
    known.forget(1)
    assert still_known(known) == {DOCS_2, MEET_2}


def test_a_version_holds_until_the_moment_its_owner_said(known, clock):
    mark = known.mark()
    known.learn(MEET_1, "m1", mark, tags=[MEETINGS], holds_for=30)
    clock.now += 29.9
    assert known.current(MEET_1) == "m1"
    clock.now += 0.1  # the meeting starts: its status moves
    assert known.current(MEET_1) is None
    known.learn(MEET_2, "m2", known.mark(), tags=[MEETINGS], holds_for=0)
    known.learn(DOCS_1, "d1", known.mark(), tags=[DOCUMENTS], holds_for=600)
    assert known.current(MEET_2) is None and known.current(DOCS_1) == "d1"
    clock.now += 61  # never longer than `trust`
    assert known.current(DOCS_1) is None


def test_an_answer_on_its_way_when_something_it_shows_changed_is_not_learnt(known):
    mark = known.mark()
    known.forget(("meetings of", 3))
    known.learn(MEET_1, "m1", mark, tags=[MEETINGS, ("meetings of", 3)])
    known.learn(MEET_2, "m2", mark, tags=[MEETINGS, ("meetings of", 4)])
    assert known.current(MEET_1) is None and known.current(MEET_2) == "m2"


def test_the_limit_drops_the_oldest_with_their_tags(known):
    known.LIMIT = 2
    learn_all(known)
    assert len(known) == 2 and still_known(known) == {MEET_1, MEET_2}
    known.forget(("organization", 1))  # nothing left of the dropped ones to trip over
    assert still_known(known) == {MEET_1, MEET_2}


def audience(*ids):
    return [{"organization_id": org_id, "organization_path": f"1.{org_id}"} for org_id in ids]


MEETING_LISTS = {MEET_1, MEET_2}
FACTS = {"organization_id": 4, "organization_path": "1.4", "kind": "regular", "title": "Họp chi bộ"}


@pytest.mark.parametrize(
    "event, kept",
    [
        # a publication to organisation 3 reaches member 1 only; to 1 (above both) everyone
        (envelope("content.document_published", {"document_id": 5, "audience": audience(3)}), {DOCS_2, *MEETING_LISTS}),
        (envelope("content.document_withdrawn", {"document_id": 5, "audience": audience(1)}), MEETING_LISTS),
        (envelope("content.document_changed", {"document_id": 5, "audience": audience(4)}), {DOCS_1, *MEETING_LISTS}),
        (envelope("content.something_new", {"document_id": 5}), MEETING_LISTS),  # not understood: every document list
        (envelope("content.reader_moved", {"member_id": 1}), {DOCS_2, MEET_2}),  # all member 1's (/me too)
        # a meeting scheduled for member 2, or one member 1's list shows changing
        (
            envelope("meetings.meeting_scheduled", {**FACTS, "meeting_id": 10, "invitees": [2]}),
            {DOCS_1, MEET_1},  # all member 2's
        ),
        (envelope("meetings.meeting_updated", {"meeting_id": 9, "organization_id": 3}), {DOCS_1, DOCS_2, MEET_2}),
        (
            envelope("meetings.meeting_updated", {"meeting_id": 10, "organization_id": 4, "member_ids": [2]}),
            {DOCS_1, MEET_1},
        ),
        (envelope("meetings.member_checked_in", {"meeting_id": 9, "organization_id": 3}), {DOCS_1, DOCS_2, MEET_2}),
        (envelope("meetings.vote_closed", {"vote_id": 1, "meeting_id": 9}), {DOCS_1, DOCS_2, MEET_1, MEET_2}),
        (envelope("meetings.meeting_changed", {"organization_id": "3", "invitees": [1]}), {DOCS_1, DOCS_2}),
        ({"type": "meetings.meeting_changed"}, {DOCS_1, DOCS_2}),  # no envelope: every meeting list
        ("not even an object", set()),  # every list, /me too
    ],
)
def test_which_events_forget_which_lists(known, event, kept):
    learn_all(known)
    ListChangesFeed("gateway", "amqp://nowhere", known).on_event(event)
    assert still_known(known) - {1} == kept
    assert (known.current(1) is None) == (event == "not even an object" or event["type"] == "content.reader_moved")


VIEW_1, VIEW_2 = (1, MEETING, 9), (2, MEETING, 10)  # member 1: meeting 9 of organisation 3; member 2: 10 of 4


def learn_views(known):
    mark = known.mark()
    known.learn(VIEW_1, "v1", mark, tags=[MEETINGS, ("meetings of", 3)])
    known.learn(VIEW_2, "v2", mark, tags=[MEETINGS, ("meetings of", 4)])


@pytest.mark.parametrize(
    "event, kept",
    [
        # whoever checked in or answered, the meeting's counts change for everyone who sees it (no invitees listed)
        (envelope("meetings.member_checked_in", {"meeting_id": 9, "organization_id": 3, "member_id": 2}), {VIEW_2}),
        (envelope("meetings.meeting_updated", {"meeting_id": 9, "organization_id": 3}), {VIEW_2}),
        # an invitation taken away from member 2 (a transfer): their view of meeting 10, and its count for others
        (envelope("meetings.meeting_updated", {"meeting_id": 10, "organization_id": 4, "member_ids": [2]}), {VIEW_1}),
        (envelope("meetings.meeting_changed", {**FACTS, "meeting_id": 10, "invitees": [2]}), {VIEW_1}),
        (envelope("meetings.meeting_cancelled", {**FACTS, "meeting_id": 10, "invitees": []}), {VIEW_1}),
        # nothing the meeting shows
        (envelope("meetings.vote_closed", {"vote_id": 1, "meeting_id": 9}), {VIEW_1, VIEW_2}),
        (envelope("meetings.absences_flagged", {"member_id": 1, "organization_id": 3}), {VIEW_1, VIEW_2}),
        (envelope("content.document_published", {"document_id": 5, "audience": audience(3)}), {VIEW_1, VIEW_2}),
        # not understood: every meeting, as every meeting list
        (envelope("meetings.something_new", {"meeting_id": 9}), set()),
        (envelope("meetings.member_checked_in", {"meeting_id": 9}), set()),  # no organisation: not understood
    ],
)
def test_which_events_forget_which_meetings_a_member_sees(known, event, kept):
    learn_views(known)
    ListChangesFeed("gateway", "amqp://nowhere", known).on_event(event)
    assert {key for key in (VIEW_1, VIEW_2) if known.current(key) is not None} == kept


def test_a_members_own_change_or_members_event_about_them_forgets_the_meetings_they_see(known):
    learn_views(known)
    known.forget(2)  # their write through this process, or members' event about them (a transfer, an erasure)
    assert known.current(VIEW_1) == "v1" and known.current(VIEW_2) is None
