"""What travels in nameko context data on every RPC and event.

The gateway sets these from the HTTP request; nameko copies context data into
message headers (`nameko.<key>`), so every hop sees the same values.
"""

import uuid

CORRELATION_ID_KEY = "correlation_id"
AUTH_TOKEN_KEY = "auth_token"  # the caller's access token, re-verified by each service
SERVICE_TOKEN_KEY = "service_token"  # the calling service's own token for this hop (shared/service_tokens.py)
CLIENT_ADDRESS_KEY = "client_address"  # for audit trails and per-address throttling
USER_AGENT_KEY = "user_agent"


def new_correlation_id():
    return uuid.uuid4().hex
