"""Access-token verification, shared by the gateway and every service.

Identity signs access tokens (EdDSA, `kid` in the header); everyone else
verifies them with identity's public keys (JWKS), fetched over RPC and cached.
Each service re-verifies the token it receives in context data, so no service
trusts a caller's identity on the word of another hop, and refuses a token whose
session has ended (shared/revocation.py) on every call, cached or not. A call made
for a service rather than a member is checked with `require_service`
(shared/service_tokens.py).
"""

import time
from collections import OrderedDict
from dataclasses import dataclass
from types import SimpleNamespace

import jwt
from nameko.extensions import DependencyProvider

from shared import config
from shared.context import AUTH_TOKEN_KEY, SERVICE_TOKEN_KEY
from shared.errors import InvalidToken, Unauthenticated
from shared.service_tokens import TrustedServices, require_service

ALGORITHMS = ["EdDSA"]  # the allow-list: anything else (none, HS256 with a public key…) fails
ACCESS_TOKEN_TYPE = "at+jwt"  # RFC 9068


def issuer():
    return config.get("JWT_ISSUER", "sotay-identity")


def audience():
    return config.get("JWT_AUDIENCE", "sotay-api")


@dataclass(frozen=True)
class Principal:
    member_id: int
    citizen_id: str
    session_id: str


class TokenVerifier:
    """Verifies access tokens against a JWKS obtained from `fetch_jwks()`."""

    CACHE_SIZE = 10_000

    def __init__(self, fetch_jwks, refresh_after=300.0, min_refetch_interval=10.0):
        self._fetch_jwks = fetch_jwks
        self._verified = OrderedDict()  # token → claims, for tokens already verified and not expired
        self._keys = {}
        self._fetched_at = 0.0
        self._refresh_after = refresh_after
        self._min_refetch_interval = min_refetch_interval

    def _load(self, fetch_jwks=None):
        jwks = (fetch_jwks or self._fetch_jwks)()
        keys = {}
        for entry in jwks.get("keys", []):
            jwk = jwt.PyJWK(entry)
            keys[entry["kid"]] = jwk.key
        self._keys = keys
        self._fetched_at = time.monotonic()

    def _key_for(self, kid, fetch_jwks=None):
        age = time.monotonic() - self._fetched_at
        if kid not in self._keys and age > self._min_refetch_interval or age > self._refresh_after:
            self._load(fetch_jwks)
        key = self._keys.get(kid)
        if key is None:
            raise InvalidToken(details={"reason": "unknown_key"})
        return key

    def verify(self, token, fetch_jwks=None):
        """Claims of a valid access token; `fetch_jwks` overrides how keys are fetched if needed."""
        claims = self._verified.get(token)
        if claims is not None and claims["exp"] > time.time():
            self._verified.move_to_end(token)
            return claims
        claims = self._verify(token, fetch_jwks)
        self._verified[token] = claims
        if len(self._verified) > self.CACHE_SIZE:
            self._verified.popitem(last=False)
        self._forget_expired()
        return claims

    def _forget_expired(self, at_most=8):
        """The least recently used tokens, once expired: new tokens come with every sign-in and refresh, and kept
        until CACHE_SIZE of them had come the expired ones grew each process's memory for hours."""
        now = time.time()
        for _ in range(at_most):
            oldest = next(iter(self._verified.values()), None)
            if oldest is None or oldest["exp"] > now:
                return
            self._verified.popitem(last=False)

    def _verify(self, token, fetch_jwks=None):
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise InvalidToken(details={"reason": "malformed"}) from None
        if header.get("alg") not in ALGORITHMS:
            raise InvalidToken(details={"reason": "algorithm_not_allowed"})
        if header.get("typ") != ACCESS_TOKEN_TYPE:
            raise InvalidToken(details={"reason": "wrong_type"})
        key = self._key_for(header.get("kid"), fetch_jwks)
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=ALGORITHMS,
                audience=audience(),
                issuer=issuer(),
                options={"require": ["exp", "iat", "iss", "aud", "sub", "sid"]},
            )
        except jwt.ExpiredSignatureError:
            raise InvalidToken(details={"reason": "expired"}) from None
        except jwt.PyJWTError:
            raise InvalidToken(details={"reason": "invalid"}) from None
        return claims

    def principal(self, token, fetch_jwks=None):
        claims = self.verify(token, fetch_jwks)
        try:
            member_id = int(claims["sub"])
        except (TypeError, ValueError):
            raise InvalidToken(details={"reason": "invalid"}) from None
        return Principal(member_id=member_id, citizen_id=claims.get("cid", ""), session_id=claims["sid"])


class CallerView:
    def __init__(self, verifier, token, fetch_jwks=None, ended_sessions=None, service_caller=None):
        self._verifier = verifier
        self._token = token
        self._fetch_jwks = fetch_jwks
        self._ended = ended_sessions
        self._service_caller = service_caller
        self._principal = None

    @property
    def sessions_ready(self):
        """Whether ended sessions are known (for /health: no token is accepted before)."""
        return self._ended is None or self._ended.ready

    @property
    def token(self):
        return self._token

    def require(self) -> Principal:
        """The verified caller, or Unauthenticated/InvalidToken."""
        if self._principal is None:
            if not self._token:
                raise Unauthenticated()
            principal = self._verifier.principal(self._token, self._fetch_jwks)
            if self._ended is not None:
                self._ended.check(principal.session_id)
            self._principal = principal
        return self._principal

    def require_service(self, *services):
        """The calling service, when its service token proves it is one of `services`; else 401/403."""
        return self._service_caller(services)


class Caller(DependencyProvider):
    """Injects the verified caller of this worker (from the token in context data).

    `local_jwks` is a function returning the JWKS (identity itself, which holds
    the keys); everyone else asks identity over RPC. `ended_sessions(container)`
    gives what `check(session_id)`s a session (identity: its own table); everyone
    else keeps the in-memory set of shared/revocation.py, fed by its own queue.
    """

    def __init__(self, local_jwks=None, ended_sessions=None):
        from shared.rpc import NestedRpc

        self.local_jwks = local_jwks
        self.ended_sessions_factory = ended_sessions
        self.keys_rpc = NestedRpc(timeout=5)
        self.verifier = None
        self.ended = None
        self.feed = None

    def setup(self):
        from shared.revocation import EndedSessions, SessionEndsFeed

        self.verifier = TokenVerifier(self.local_jwks)
        self.services = TrustedServices(self.container.service_name)
        if self.ended_sessions_factory is not None:
            self.ended = self.ended_sessions_factory(self.container)
            return
        self.ended = EndedSessions()
        self.feed = SessionEndsFeed(
            self.container.service_name,
            config.amqp_uri(),
            self.ended,
            restore=self._ended_sessions_of_identity,
            retry_interval=float(config.get("ENDED_SESSIONS_RETRY_INTERVAL", 1.0)),
        )

    def start(self):
        if self.feed is not None:
            self.container.spawn_managed_thread(self.feed.run, identifier="ended sessions feed")

    def stop(self):
        if self.feed is not None:
            self.feed.stop()

    def kill(self):
        self.stop()

    def _ended_sessions_of_identity(self):
        # the feed may start before the reply listener (whose queue the answer needs) is consuming
        self.keys_rpc.reply_listener.consumer.wait_until_consumer_ready()
        # the process's own call, on behalf of no caller (signed with this service's own token)
        return self._rpc(SimpleNamespace(context_data={})).identity.ended_sessions()

    def _rpc(self, worker_ctx):
        return self.keys_rpc.get_dependency(worker_ctx)

    def get_dependency(self, worker_ctx):
        # when the keys must be (re)fetched, it is over this worker's own RPC client
        fetch = None if self.local_jwks else (lambda: self._rpc(worker_ctx).identity.jwks())
        service_token = worker_ctx.context_data.get(SERVICE_TOKEN_KEY)
        return CallerView(
            self.verifier,
            worker_ctx.context_data.get(AUTH_TOKEN_KEY),
            fetch,
            self.ended,
            lambda allowed: require_service(self.services, service_token, allowed),
        )
