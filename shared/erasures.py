"""What a service keeps of each erasure it carried out on members' order (members decides one: an administrator
asked, with a reason): who asked, when and why — never what was erased.

    class Erasure(ErasureRecord, Base):
        pass

    Erasure.record(session, member_id, principal, reason, uow.context)
"""

from sqlalchemy import Column, DateTime, Integer, String, Text

from shared.db import utcnow


class ErasureRecord:
    """The columns and the table's name, for a service's own declarative base."""

    __tablename__ = "erasures"
    id = Column(Integer, primary_key=True)
    member_id = Column(Integer, nullable=False)
    requested_by = Column(Integer, nullable=False)
    reason = Column(Text, nullable=False)
    correlation_id = Column(String(64))
    erased_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)

    @classmethod
    def record(cls, session, member_id, principal, reason, context):
        session.add(
            cls(
                member_id=member_id,
                requested_by=principal.member_id,
                reason=reason,
                correlation_id=context.get("correlation_id"),
            )
        )
