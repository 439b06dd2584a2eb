"""Study material without a broker: a quiz's answers never reach a member, attempts are scored here and limited,
the best score kept; a member's own study history."""

import pytest

from shared.contracts.content import AttemptsExhausted, DocumentStateConflict
from shared.errors import Forbidden, NotFound, ValidationError
from services.content import reading, study
from tests.support.worlds import BRANCH, OTHER_BRANCH

QUIZ = {
    "questions": [
        {"text": "Đại hội lần thứ mấy?", "options": ["XIII", "XIV"], "correct": [1]},
        {"text": "Chọn các nguyên tắc", "options": ["Tập trung dân chủ", "Tự phê bình", "Tuỳ ý"], "correct": [0, 1]},
    ],
    "pass_mark": 1.0,
    "max_attempts": 2,
}


def test_a_quiz_is_scored_on_the_server_its_answers_hidden_from_members_its_attempts_limited(content_world):
    secretary = content_world.officer(BRANCH)
    document_id = content_world.publish(secretary, BRANCH, category="study", study=True)
    with content_world.uow.transaction():
        study.set_quiz(content_world.uow, secretary, document_id, QUIZ)
    member = content_world.member(BRANCH)
    seen = study.get_quiz(content_world.uow.session, member, document_id)
    assert all("correct" not in question for question in seen["questions"])
    assert [question["multiple"] for question in seen["questions"]] == [False, True]  # how many, not which
    assert study.get_quiz(content_world.uow.session, secretary, document_id)["questions"][0]["correct"] == [1]
    with content_world.uow.transaction():
        first = study.attempt(content_world.uow, member, document_id, [[1], [0]])
    assert first == {"score": 0.5, "passed": False, "best_score": 0.5, "attempts_left": 1}
    with content_world.uow.transaction():
        second = study.attempt(content_world.uow, member, document_id, [[1], [1, 0]])
    assert second == {"score": 1.0, "passed": True, "best_score": 1.0, "attempts_left": 0}
    with pytest.raises(AttemptsExhausted), content_world.uow.transaction():
        study.attempt(content_world.uow, member, document_id, [[1], [0, 1]])
    with pytest.raises(ValidationError), content_world.uow.transaction():
        study.attempt(content_world.uow, content_world.member(BRANCH), document_id, [[1]])
    with pytest.raises(NotFound), content_world.uow.transaction():
        study.attempt(content_world.uow, content_world.member(OTHER_BRANCH), document_id, [[1], [0]])
    with content_world.uow.transaction():
        reading.mark_read(content_world.uow, member, document_id)
    (item,) = study.history(content_world.uow.session, member.member_id)["items"]
    assert (item["document_id"], item["attempts"], item["best_score"], item["passed"]) == (document_id, 2, 1.0, True)
    assert item["read_at"]


def test_only_study_material_carries_a_quiz_set_by_its_officers(content_world):
    secretary = content_world.officer(BRANCH)
    news = content_world.publish(secretary, BRANCH, category="news")
    with pytest.raises(DocumentStateConflict), content_world.uow.transaction():
        study.set_quiz(content_world.uow, secretary, news, QUIZ)
    lesson = content_world.publish(secretary, BRANCH, category="study")
    with pytest.raises(Forbidden), content_world.uow.transaction():
        study.set_quiz(content_world.uow, content_world.member(BRANCH), lesson, QUIZ)
    wrong = {**QUIZ, "questions": [{"text": "?", "options": ["a", "b"], "correct": [2]}]}
    with pytest.raises(ValidationError), content_world.uow.transaction():
        study.set_quiz(content_world.uow, secretary, lesson, wrong)
