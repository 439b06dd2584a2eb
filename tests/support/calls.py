"""One signed-in call to each service, over its own RPC (so none hides behind the gateway's check)."""

from nameko.exceptions import RemoteError

from shared.errors import from_remote

# a call that needs the member's token, per service
RPC_CALLS = {"members": "get_me", "notify": "list_inbox", "identity": "list_sessions"}


def rpc_status(method):
    """200 if the call answered, else the HTTP status of the error it raised."""
    try:
        method()
        return 200
    except RemoteError as exc:
        return from_remote(exc).status
