"""members and identity over the real broker, each with its own SQLite database."""

import pytest
from nameko.exceptions import RemoteError
from sqlalchemy import select

from shared.context import AUTH_TOKEN_KEY
from shared.contracts.identity import InvalidCredentials
from shared.db import standalone_unit
from shared.errors import ServiceUnavailable, from_remote
from shared.rpc import service_client
from shared.service_tokens import ensure_key_pair
from services.identity import domain as identity_domain
from services.identity.models import Base as IdentityBase, DirectoryEntry
from services.members import seed
from services.members.models import Base as MembersBase
from tests.support.waiting import wait_for


@pytest.fixture
def suite(prepare, containers):
    """Both services prepared; members seeded (its events wait in its outbox)."""
    # the test calls as the gateway: its public key must exist before a service first reads the keys directory,
    # which it reads again only every RELOAD_EVERY seconds (else `unknown_service`, depending on timing)
    ensure_key_pair("gateway")
    identity_cls = prepare("identity")
    members_cls = prepare("members")
    uow, database = standalone_unit(MembersBase.metadata, "members")
    with uow.transaction():
        seed.seed(uow)
    uow.close()
    database.engine.dispose()
    return identity_cls, members_cls


def directory_size():
    uow, database = standalone_unit(IdentityBase.metadata, "identity")
    try:
        return len(uow.session.scalars(select(DirectoryEntry.member_id)).all())
    finally:
        uow.close()
        database.engine.dispose()


def call(method, *args, token=None):
    context = {AUTH_TOKEN_KEY: token} if token else {}
    with service_client("gateway", context_data=context) as client:  # as the gateway would
        try:
            return getattr(client, method[0])[method[1]](*args)
        except RemoteError as exc:
            raise (from_remote(exc) or exc) from None


def test_events_committed_while_their_consumer_is_down_are_handled_when_it_starts(suite, containers):
    identity_cls, members_cls = suite
    containers(members_cls)  # relays the seed's events; identity is not running
    wait_for(lambda: _outbox_sent("members"), message="members' outbox relayed")
    assert directory_size() == 0
    containers(identity_cls)
    wait_for(lambda: directory_size() == 15, message="identity's projection of the 15 demo members")


def _outbox_sent(service):
    uow, database = standalone_unit(MembersBase.metadata, service)
    try:
        table = database.outbox
        states = uow.session.execute(select(table.c.state)).scalars().all()
        return states and set(states) == {"sent"}
    finally:
        uow.close()
        database.engine.dispose()


def _unless_unavailable(attempt):
    try:
        return attempt()
    except ServiceUnavailable:
        return None


def test_a_member_signs_in_and_reads_their_record_over_rpc(suite, containers):
    identity_cls, members_cls = suite
    containers(members_cls)
    containers(identity_cls)
    wait_for(lambda: directory_size() == 15, message="identity's projection")
    uow, database = standalone_unit(IdentityBase.metadata, "identity")
    with uow.transaction() as session:
        identity_domain.set_password(session, "001000000002", "mật khẩu đủ dài")
    uow.close()
    database.engine.dispose()

    tokens = call(("identity", "login"), {"citizen_id": "001000000002", "password": "mật khẩu đủ dài"})
    # members answers 503 until it has restored the ended sessions from identity (shared/revocation.py)
    me = wait_for(
        lambda: _unless_unavailable(lambda: call(("members", "get_me"), token=tokens["access_token"])),
        message="members to know the ended sessions",
    )
    assert me["full_name"] == "Lê Văn Hùng" and me["status"] == "official"

    with pytest.raises(InvalidCredentials):
        call(("identity", "login"), {"citizen_id": "001000000002", "password": "wrong"})
    with pytest.raises(InvalidCredentials):  # never activated: the same answer as a wrong password
        call(("identity", "login"), {"citizen_id": "001000000003", "password": "anything"})
