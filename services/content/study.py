"""Study: a study document's quiz, set by the officers over it; members see its questions without the answers,
attempt it a limited number of times, and are scored here on the server (the best score kept); each member's own
history of reading and results (`GET /me/study`)."""

from sqlalchemy import and_, or_, select

from shared.contracts.common import decode_cursor, encode_cursor
from shared.contracts.content import AttemptsExhausted, DocumentStateConflict
from shared.db import aware, get_or_add, utcnow
from shared.errors import NotFound, ValidationError
from services.content import progress
from services.content.audience import get_editable, get_visible, may_edit, reader as reader_of
from services.content.models import Document, Quiz, Read, StudyResult

NOT_STUDY = "Chỉ tài liệu học tập mới có bài kiểm tra. / Only study material carries a quiz."
OPTION_OUTSIDE = "Câu {n}: không có lựa chọn {index}. / Question {n} has no option {index}."
CORRECT_OUTSIDE = "Đáp án nằm ngoài các lựa chọn. / A right answer is not one of the options."
ONE_EACH = "Mỗi câu hỏi một câu trả lời. / One answer for each question."


def _is_study(document):
    return document.study or document.category == "study"


def set_quiz(uow, principal, document_id, data):
    session = uow.session
    document = get_editable(session, reader_of(session, principal), document_id)
    if not _is_study(document):
        raise DocumentStateConflict(details={"study": [NOT_STUDY]})
    problems = {
        n: {"correct": [CORRECT_OUTSIDE]}
        for n, question in enumerate(data["questions"])
        if any(index >= len(question["options"]) for index in question["correct"])
    }
    if problems:
        raise ValidationError(details={"questions": problems})
    quiz = get_or_add(session, Quiz, document_id=document.id)
    quiz.questions = [
        {"text": q["text"], "options": list(q["options"]), "correct": sorted(q["correct"])} for q in data["questions"]
    ]
    quiz.pass_mark, quiz.max_attempts, quiz.updated_at = data["pass_mark"], data["max_attempts"], utcnow()
    session.flush()
    return quiz_json(session, principal.member_id, quiz, answers=True)


def quiz_json(session, member_id, quiz, answers=False):
    """The quiz as the caller sees it: its right answers for the officers over it alone, never for members."""
    result = session.get(StudyResult, (member_id, quiz.document_id))
    return {
        "document_id": quiz.document_id,
        "questions": [
            {
                "text": q["text"],
                "options": q["options"],
                # how many to choose, not which: a member needs it to answer, and it gives no answer away
                "multiple": len(q["correct"]) > 1,
                **({"correct": q["correct"]} if answers else {}),
            }
            for q in quiz.questions
        ],
        "pass_mark": quiz.pass_mark,
        "max_attempts": quiz.max_attempts,
        "attempts": result.attempts if result else 0,
        "best_score": result.best_score if result else None,
        "passed": bool(result and result.passed),
    }


def _quiz_of(session, document):
    quiz = session.get(Quiz, document.id)
    if quiz is None:
        raise NotFound()
    return quiz


def get_quiz(session, principal, document_id):
    reader = reader_of(session, principal)
    document = get_visible(session, reader, document_id)
    return quiz_json(
        session, principal.member_id, _quiz_of(session, document), answers=may_edit(session, reader, document)
    )


def score(questions, answers):
    """The fraction of questions answered exactly right (every right option chosen, no other)."""
    right = sum(sorted(set(given)) == question["correct"] for question, given in zip(questions, answers, strict=True))
    return right / len(questions)


def attempt(uow, principal, document_id, answers):
    session = uow.session
    document = get_visible(session, reader_of(session, principal), document_id)
    if document.status != "published":
        raise DocumentStateConflict()
    quiz = _quiz_of(session, document)
    if len(answers) != len(quiz.questions):
        raise ValidationError(details={"answers": [ONE_EACH]})
    outside = {
        n: [OPTION_OUTSIDE.format(n=n + 1, index=index)]
        for n, (question, given) in enumerate(zip(quiz.questions, answers, strict=True))
        for index in given
        if index >= len(question["options"])
    }
    if outside:
        raise ValidationError(details={"answers": outside})
    result = get_or_add(session, StudyResult, member_id=principal.member_id, document_id=document.id)
    attempts = result.attempts or 0
    if attempts >= quiz.max_attempts:
        raise AttemptsExhausted()
    result.attempts = attempts + 1
    result.last_attempt_at = utcnow()
    this = score(quiz.questions, answers)
    result.best_score = max(result.best_score or 0.0, this)
    if not result.passed and this >= quiz.pass_mark:
        progress.count(session, principal.member_id, document.id, passed=1)
    result.passed = bool(result.passed) or this >= quiz.pass_mark
    session.flush()
    return {
        "score": this,
        "passed": this >= quiz.pass_mark,
        "best_score": result.best_score,
        "attempts_left": quiz.max_attempts - result.attempts,
    }


def history(session, member_id, cursor=None, limit=50):
    """The member's study documents read or attempted, most recent document first."""
    read = select(Read.document_id).where(Read.member_id == member_id)
    tried = select(StudyResult.document_id).where(StudyResult.member_id == member_id)
    statement = (
        select(Document, Read.read_at, StudyResult)
        .outerjoin(Read, and_(Read.document_id == Document.id, Read.member_id == member_id))
        .outerjoin(StudyResult, and_(StudyResult.document_id == Document.id, StudyResult.member_id == member_id))
        .where(or_(Document.study, Document.category == "study"), or_(Document.id.in_(read), Document.id.in_(tried)))
    )
    if cursor:
        (before,) = decode_cursor(cursor, int)
        statement = statement.where(Document.id < before)
    rows = session.execute(statement.order_by(Document.id.desc()).limit(limit + 1)).all()
    items = [
        {
            "document_id": document.id,
            "title": document.title,
            "read_at": aware(read_at).isoformat() if read_at else None,
            "attempts": result.attempts if result else 0,
            "best_score": result.best_score if result else None,
            "passed": bool(result and result.passed),
        }
        for document, read_at, result in rows[:limit]
    ]
    next_cursor = encode_cursor(rows[limit - 1][0].id) if len(rows) > limit else None
    return {"items": items, "next_cursor": next_cursor}
