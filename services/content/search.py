"""Full-text search over documents' folded text (models.py: FTS5 on SQLite, a GIN-indexed `simple` tsvector on
PostgreSQL). The query is folded the same way (shared.text.search_key: diacritics, case, đ → d), so
`nghi quyet dai hoi` finds `Nghị quyết Đại hội`; every word must match, the last one as a prefix (typing)."""

import re

from sqlalchemy import func, literal, literal_column, select, text

from shared.text import search_key
from services.content.models import Document

_WORD = re.compile(r"[a-z0-9]+")


def words(query):
    return _WORD.findall(search_key(query))


def matching(session, query):
    """A subquery of (id, rank) of the documents matching `query`: a lower rank is a better match."""
    terms = words(query)
    if not terms:  # nothing searchable: matches nothing
        return select(Document.id.label("id"), literal(0).label("rank")).where(literal(False)).subquery()
    if session.get_bind().dialect.name == "postgresql":
        vector = func.to_tsvector(literal_column("'simple'"), Document.search_text)  # the indexed expression
        wanted = func.to_tsquery(literal_column("'simple'"), " & ".join([*terms[:-1], terms[-1] + ":*"]))
        return (
            select(Document.id.label("id"), (-func.ts_rank(vector, wanted)).label("rank"))
            .where(vector.op("@@")(wanted))
            .subquery()
        )
    expression = " ".join([*(f'"{term}"' for term in terms[:-1]), f'"{terms[-1]}"*'])
    return (
        select(literal_column("rowid").label("id"), literal_column("bm25(fts_documents)").label("rank"))
        .select_from(text("fts_documents"))
        .where(text("fts_documents MATCH :expression").bindparams(expression=expression))
        .subquery()
    )
