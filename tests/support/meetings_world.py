"""meetings' tables in a fresh SQLite file, and factories that fill its directory the way members' events do, so a
test states the organisations, members and officers it needs, and schedules meetings through the domain."""

import itertools
from datetime import timedelta

from shared.db import utcnow
from shared.events import envelope
from services.meetings import domain, invitations
from services.meetings.models import Meeting
from tests.support.worlds import World


class MeetingsWorld(World):
    def __init__(self, uow):
        super().__init__(uow)
        self._ids = itertools.count(100)

    def organization(self, parent=None):
        """An organisation's path ("/100/101/"), below `parent`'s if given (known once someone is in it)."""
        return f"{parent or '/'}{next(self._ids)}/"

    def chain(self):
        """centre → province → grassroots → branch."""
        centre = self.organization()
        province = self.organization(centre)
        grassroots = self.organization(province)
        return centre, province, grassroots, self.organization(grassroots)

    def member(self, path, *positions, status="official"):
        """A member of the organisation at `path` holding `positions` ((role, path) pairs); returns the id."""
        member_id = next(self._ids)
        self.snapshot(member_id, path, status)
        for role, where in positions:
            self.position(member_id, role, where)
        return member_id

    def snapshot(self, member_id, path, status="official", event="members.member_updated"):
        payload = {
            "member_id": member_id,
            "citizen_id": f"0019{member_id:08d}",
            "full_name": f"Đảng viên {member_id}",
            "status": status,
            "organization_id": org_id(path),
            "organization_path": path,
            "phone": None,
        }
        with self.uow.transaction() as session:
            return invitations.member_changed(session, envelope(event, payload))  # the invitations it changed

    def position(self, member_id, role, path, action="assigned"):
        payload = {
            "member_id": member_id,
            "organization_id": org_id(path),
            "organization_path": path,
            "role": role,
            "action": action,
        }
        with self.uow.transaction() as session:
            invitations.position_changed(session, envelope("members.position_changed", payload))

    def schedule(self, member_id, path, now=None, **fields):
        """A meeting of the organisation at `path` scheduled by `member_id`: tomorrow, two hours, unless told."""
        now = now or utcnow()
        starts_at = fields.pop("starts_at", now + timedelta(days=1))
        data = {
            "title": "Sinh hoạt chi bộ",
            "kind": "regular",
            "starts_at": starts_at,
            "ends_at": fields.pop("ends_at", starts_at + timedelta(hours=2)),
            "location": "Hội trường",
            "online_url": None,
            "agenda": [{"title": "Tình hình tháng", "document_ids": []}],
            "repeat": None,
            **fields,
        }
        with self.uow.transaction():
            return domain.schedule_meeting(self.uow, member_id, org_id(path), data, now=now)

    def meeting(self, meeting_id):
        self.session.expire_all()
        return self.session.get(Meeting, meeting_id)


def org_id(path):
    return int(path.rstrip("/").rsplit("/", 1)[1])
