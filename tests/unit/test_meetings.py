"""meetings without a broker."""

from services.meetings.service import MeetingsService
from tests.support.services import assert_unhealthy_without_its_broker


def test_meetings_reports_itself_unhealthy_without_its_broker(monkeypatch):
    assert_unhealthy_without_its_broker(MeetingsService, monkeypatch)
