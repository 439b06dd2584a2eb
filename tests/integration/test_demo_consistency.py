"""Demo data is consistent across services: the README's signed-in demo accounts count as uptake in
members and are never invited by notify when their committee goes live."""

from nameko.amqp.publish import get_producer
from sqlalchemy import select

from shared import config
from shared.db import standalone_unit
from shared.demo import ACTIVATED_DEMO_ACCOUNTS
from shared.events import envelope
from shared.topology import events_exchange
from services.members import seed
from services.members.models import Base as MembersBase, Member, Organization
from services.notify.models import Base as NotifyBase, Delivery, Recipient
from tests.support.rabbit import queue_idle
from tests.support.waiting import wait_for


def notify_rows(model, *where):
    unit, database = standalone_unit(NotifyBase.metadata, "notify")
    try:
        return unit.session.scalars(select(model).where(*where)).all()
    finally:
        unit.close()
        database.engine.dispose()


def test_the_demo_accounts_are_activated_everywhere_and_never_invited(prepare, containers):
    members_cls, notify_cls = prepare("members"), prepare("notify")
    uow, database = standalone_unit(MembersBase.metadata, "members")
    with uow.transaction() as session:
        seed.seed(uow)
        members = {m.citizen_id: m for m in session.scalars(select(Member))}
        branch_path = members["001000000002"].organization_path
        province = session.scalar(
            select(Organization).where(Organization.path == "/".join(branch_path.split("/")[:3]) + "/")
        )
    uow.close()
    database.engine.dispose()
    assert {cid for cid, m in members.items() if m.activated} == set(ACTIVATED_DEMO_ACCOUNTS)

    containers(members_cls)
    containers(notify_cls)
    wait_for(lambda: len(notify_rows(Recipient)) == len(members), message="notify's projection of the demo members")
    activated = {r.member_id for r in notify_rows(Recipient, Recipient.activated.is_(True))}
    assert activated == {members[cid].id for cid in ACTIVATED_DEMO_ACCOUNTS}

    # Đồng Tháp goes live: everyone below who has not signed in is invited, the demo accounts are not
    with get_producer(config.amqp_uri()) as producer:
        producer.publish(
            envelope(
                "members.org_rollout_changed",
                {"organization_id": province.id, "organization_path": province.path, "state": "live"},
            ),
            exchange=events_exchange("members"),
            routing_key="members.org_rollout_changed",
            serializer="json",
            delivery_mode=2,
        )
    queue = "evt-members-org_rollout_changed--notify.on_rollout_changed"
    invitations = Delivery.event_id.like("invitation:%")
    wait_for(
        lambda: notify_rows(Delivery, invitations) and queue_idle(config.amqp_uri(), queue), message="the invitations"
    )
    invited = {d.member_id for d in notify_rows(Delivery, invitations)}
    assert members["001000000003"].id in invited
    assert not invited & {members[cid].id for cid in ACTIVATED_DEMO_ACCOUNTS}
