"""A client kept for a long job signs each call afresh: a bulk re-read that outlives a service token's lifetime
(60 s) went on sending the token it started with, so the callee refused its later pages as expired and the
re-read was parked after its retries (found by the check-in burst benchmark: 20,000 imported members)."""

from types import SimpleNamespace

from shared.context import SERVICE_TOKEN_KEY
from shared.rpc import TimedClient


class Signer:
    def __init__(self):
        self.issued = 0

    def token_for(self, audience):
        self.issued += 1
        return f"{audience}-token-{self.issued}"


def test_a_kept_client_carries_the_signers_current_token_at_each_call():
    raw = SimpleNamespace(publish=None, register_for_reply=None, context_data={"correlation_id": "c-1"})
    members = TimedClient(raw, SimpleNamespace(signer=Signer()), None).members  # kept, as reread_members does

    first = members.member_snapshots._method.context_data
    later = members.member_snapshots._method.context_data

    assert first[SERVICE_TOKEN_KEY] == "members-token-1"
    assert later[SERVICE_TOKEN_KEY] == "members-token-2"
    assert later["correlation_id"] == "c-1"
