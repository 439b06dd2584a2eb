"""content without a broker."""

from services.content.service import ContentService
from tests.support.services import assert_unhealthy_without_its_broker


def test_content_reports_itself_unhealthy_without_its_broker(monkeypatch):
    assert_unhealthy_without_its_broker(ContentService, monkeypatch)
