"""A branch ready for a meeting, over HTTP: its secretary, members (one probationary) and a member of another
branch, each waited for until meetings' own copy of the directory knows them (its invitees come from it)."""

import os
import sqlite3
from datetime import UTC, datetime, timedelta, timezone

from tests.e2e.conftest import post
from tests.e2e.people import Factory
from tests.support.waiting import wait_for

VIETNAM = timezone(timedelta(hours=7))


def _meetings_knows(running, query, *args):
    with sqlite3.connect(os.path.join(running.data_dir, "meetings.db")) as db:
        return db.execute(query, args).fetchone()


def known_to_meetings(running, member, organization_id=None):
    """`member` once meetings knows them (in `organization_id` when given: after a transfer)."""
    wait_for(
        lambda: _meetings_knows(
            running,
            "SELECT 1 FROM directory_members WHERE member_id = ? AND organization_id = ?",
            member["id"],
            organization_id or member["organization_id"],
        ),
        message="meetings to know the member",
    )
    return member


def runs_meetings(running, officer, organization):
    """`officer` once meetings knows them and their position in `organization`."""
    known_to_meetings(running, officer)
    wait_for(
        lambda: _meetings_knows(
            running,
            "SELECT 1 FROM directory_positions WHERE member_id = ? AND organization_id = ?",
            officer["id"],
            organization["id"],
        ),
        message="meetings to know the secretary",
    )
    return officer


def branch_with_members(running, factory=None):
    factory = factory or Factory(running)
    branch = factory.branch()
    secretary = runs_meetings(running, factory.officer(branch), branch)
    return {
        "factory": factory,
        "branch": branch,
        "secretary": secretary,
        "member": known_to_meetings(running, factory.member(branch, activated=True)),
        "probationary": known_to_meetings(running, factory.member(branch, activated=True, status="probationary")),
        "outsider": known_to_meetings(running, factory.member(factory.branch(), activated=True)),
    }


def at(delta):
    """A moment `delta` from now, with Vietnam's offset as a client would send it."""
    return (datetime.now(UTC) + delta).astimezone(VIETNAM).isoformat()


def meeting_body(starts_in=timedelta(minutes=10), length=timedelta(hours=2), **fields):
    return {
        "title": "Sinh hoạt chi bộ tháng 12",
        "kind": "regular",
        "starts_at": at(starts_in),
        "ends_at": at(starts_in + length),
        "location": "Hội trường khu phố",
        "agenda": [{"title": "Kiểm điểm công tác tháng", "document_ids": []}],
        **fields,
    }


def schedule(running, people, **fields):
    answer = post(
        running,
        f"/organizations/{people['branch']['id']}/meetings",
        meeting_body(**fields),
        people["secretary"]["token"],
    )
    assert answer.status_code == 201, answer.text
    return answer.json()
