"""A change that changes nothing writes and publishes nothing: no audit row whose before equals its after,
no `members.member_updated` that every consumer would apply for nothing."""

from nameko.amqp.publish import get_producer
from sqlalchemy import func, select

from shared import config
from shared.db import standalone_unit
from shared.events import envelope
from shared.topology import events_exchange
from services.members import changes, counts, domain, seed
from services.members.models import AuditEntry, Base, Member, Organization, outbox, processed_events
from tests.support.waiting import wait_for

MAI = "001000000003"  # a demo member who never activated


def written(session):
    """How many audit rows and outbox events members holds."""
    return (
        session.scalar(select(func.count()).select_from(AuditEntry)),
        session.scalar(select(func.max(outbox.c.seq))),
    )


def uptake(session, member):
    committee = session.scalar(
        select(Organization).where(Organization.path == "/".join(member.organization_path.split("/")[:4]) + "/")
    )
    return counts.stats(session, committee)["uptake"]["activated"]


def test_an_activation_counts_in_uptake_once_and_is_neither_audited_nor_published_again(prepare, containers):
    members_cls = prepare("members")
    uow, database = standalone_unit(Base.metadata, "members")
    with uow.transaction():
        seed.seed(uow)
    mai = uow.session.scalar(select(Member).where(Member.citizen_id == MAI))
    before, uptake_before = written(uow.session), uptake(uow.session, mai)
    uow.session.rollback()
    containers(members_cls)

    sms = envelope("identity.account_activated", {"member_id": mai.id, "method": "sms"})
    vneid = envelope("identity.account_activated", {"member_id": mai.id, "method": "vneid"})  # signed in again
    with get_producer(config.amqp_uri()) as producer:
        for event in (sms, sms, vneid):  # the first one redelivered too
            producer.publish(
                event,
                exchange=events_exchange("identity"),
                routing_key=event["type"],
                serializer="json",
                delivery_mode=2,
            )

    def handled():
        uow.session.rollback()
        return (
            uow.session.scalar(
                select(func.count())
                .select_from(processed_events)
                .where(processed_events.c.handler == "members.on_account_activated")
            )
            == 2
        )

    wait_for(handled, message="members handling both activations")
    assert uow.session.get(Member, mai.id).activated
    assert uptake(uow.session, mai) == uptake_before + 1
    # `activated` is no personal data for the audit trail, and identity's event already told every consumer
    assert written(uow.session) == before
    uow.close()
    database.engine.dispose()


def test_an_edit_to_the_values_already_on_record_writes_and_publishes_nothing(members_uow):
    with members_uow.transaction() as session:
        member = session.scalar(select(Member).where(Member.citizen_id == "001000000002"))
        before = written(session)
        actor = domain.load_actor(session, member.id)
        changes.update_me(members_uow, actor, {"phone": member.phone, "email": member.email})
        changes.apply_changes(members_uow, None, member, {"full_name": f"  {member.full_name} "})
        assert written(session) == before
        changes.update_me(members_uow, actor, {"phone": "+84912999999"})
        audits, seq = written(session)
        assert (audits, seq) == (before[0] + 1, before[1] + 1)
