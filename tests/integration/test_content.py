"""content on a real broker and database."""

from tests.support.services import assert_ready_once_identity_answers


def test_content_is_ready_once_identity_answers_and_serves_its_metrics(prepare, containers):
    assert_ready_once_identity_answers("content", prepare, containers)
