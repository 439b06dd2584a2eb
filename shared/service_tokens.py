"""Service tokens: which service is calling, proven by its own key, not by its place on the broker.

Each service holds an Ed25519 key (`<service>.key`) and every deployment a directory of the
services' public keys (`<service>.pub`, SERVICE_KEYS_DIR, default $DATA_DIR/service-keys).
A caller signs a short-lived token for each callee (`aud`), cached and renewed before it
expires; the callee checks it against the public keys it trusts and against the services
the RPC names (`caller=services("identity")`, shared/kit.py).
"""

import logging
import os
import time
import uuid
from collections import OrderedDict
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from shared import config, metrics
from shared.errors import Forbidden, InvalidToken, Unauthenticated

TOKEN_TYPE = "sotay-service+jwt"  # never accepted as an access token, and the reverse
LIFETIME = 60  # seconds a token lives
RENEW_BEFORE = 30  # a cached token is replaced this long before it expires (covers RPC_TIMEOUT)
MAX_LIFETIME = 120  # a longer-lived token is refused, whoever signed it
LEEWAY = 5  # clock skew between hosts
RELOAD_EVERY = 10.0  # seconds between looks at the keys directory for a changed key

log = logging.getLogger(__name__)


def _invalid(details):
    return InvalidToken(
        message="Dịch vụ gọi đến không được xác thực. / The calling service's token is not valid.", details=details
    )


def keys_dir():
    configured = config.get("SERVICE_KEYS_DIR")
    return Path(configured) if configured else config.data_dir() / "service-keys"


def key_file(service):
    """The service's own private key: SERVICE_KEY_FILE (a secret mounted on its host only), else in the directory."""
    configured = config.get("SERVICE_KEY_FILE")
    return Path(configured) if configured else keys_dir() / f"{service}.key"


def _write(path, data, mode):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def create_key_pair(directory, service, private_directory=None):
    """`<service>.pub` in `directory` and `<service>.key` (0600) in `private_directory` (default: the
    same), unless the key is already there."""
    directory = Path(directory)
    private_directory = Path(private_directory) if private_directory else directory
    for path in {directory, private_directory}:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    private = private_directory / f"{service}.key"
    try:
        key = Ed25519PrivateKey.generate()
        _write(
            private,
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ),
            0o600,
        )
    except FileExistsError:  # never replaced: a new key is a rotation, done on purpose
        key = serialization.load_pem_private_key(private.read_bytes(), password=None)
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    public_path = directory / f"{service}.pub"
    if not public_path.exists() or public_path.read_bytes() != public:
        public_path.unlink(missing_ok=True)
        _write(public_path, public, 0o644)
    return key


def ensure_key_pair(service):
    """The service's private key; a development pair is created when missing, never in production."""
    path = key_file(service)
    if not path.exists():
        if config.environment() == "production":
            raise RuntimeError(
                f"{service}: no service key at {path} (SERVICE_KEY_FILE / SERVICE_KEYS_DIR). "
                f"Provision it: python -m shared.cli service-keys <directory> {service}; "
                f"deploy/README.md, 'Service keys'."
            )
        return create_key_pair(keys_dir(), service)
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise RuntimeError(f"{service}: the service key at {path} is not an Ed25519 key")
    return key


class ServiceSigner:
    """Signs, as `service`, a token per callee, reused until RENEW_BEFORE seconds before it expires."""

    def __init__(self, service, key):
        self.service = service
        self._key = key
        self._tokens = {}  # audience → (token, expires at)

    @classmethod
    def for_service(cls, service):
        return cls(service, ensure_key_pair(service))

    def token_for(self, audience, now=None):
        now = time.time() if now is None else now
        cached = self._tokens.get(audience)
        if cached is not None and cached[1] - now > RENEW_BEFORE:
            return cached[0]
        issued = int(now)
        token = jwt.encode(
            {
                "iss": self.service,
                "sub": self.service,
                "aud": audience,
                "iat": issued,
                "exp": issued + LIFETIME,
                "jti": uuid.uuid4().hex,
            },
            self._key,
            algorithm="EdDSA",
            headers={"typ": TOKEN_TYPE},
        )
        self._tokens[audience] = (token, issued + LIFETIME)
        return token


class TrustedServices:
    """Verifies service tokens addressed to `audience` against the public keys in `directory`."""

    CACHE_SIZE = 1_000

    def __init__(self, audience, directory=None):
        self.audience = audience
        self.directory = Path(directory) if directory else keys_dir()
        self._keys = {}
        self._loaded_at = float("-inf")
        self._verified = OrderedDict()  # token → (issuer, expires at)
        if config.environment() == "production":
            self._load()
            if not self._keys:
                raise RuntimeError(
                    f"{audience}: no service public keys (<service>.pub) in {self.directory} "
                    f"(SERVICE_KEYS_DIR); deploy/README.md, 'Service keys'."
                )

    def _load(self):
        keys = {}  # service → its public keys: `<service>.pub`, and during a rotation `<service>.<any>.pub`
        for path in sorted(self.directory.glob("*.pub")):
            try:
                key = serialization.load_pem_public_key(path.read_bytes())
            except ValueError:
                continue
            if isinstance(key, Ed25519PublicKey):
                keys.setdefault(path.name.split(".", 1)[0], []).append(key)
        self._keys = keys
        self._loaded_at = time.monotonic()

    def _keys_of(self, issuer, stale=False):
        # a new service, or a rotated key, is picked up from the directory; at most every RELOAD_EVERY seconds
        if (issuer not in self._keys or stale) and time.monotonic() - self._loaded_at > RELOAD_EVERY:
            self._load()
        return self._keys.get(issuer, [])

    def verify(self, token):
        """The calling service's name, or InvalidToken."""
        cached = self._verified.get(token)
        if cached is not None and cached[1] > time.time():
            return cached[0]
        claims = self._verify(token)
        self._verified[token] = (claims["iss"], claims["exp"])
        if len(self._verified) > self.CACHE_SIZE:
            self._verified.popitem(last=False)
        return claims["iss"]

    def _verify(self, token):
        try:
            header = jwt.get_unverified_header(token)
            issuer = jwt.decode(token, options={"verify_signature": False}).get("iss")
        except jwt.PyJWTError:
            raise _invalid({"reason": "malformed"}) from None
        if header.get("alg") != "EdDSA" or header.get("typ") != TOKEN_TYPE:
            raise _invalid({"reason": "not_a_service_token"})
        keys = self._keys_of(issuer) if isinstance(issuer, str) else []
        if not keys:
            raise _invalid({"reason": "unknown_service"})
        claims = self._decode(token, keys)
        if claims is None:  # a bad signature: the issuer's key may just have been rotated
            claims = self._decode(token, self._keys_of(issuer, stale=True))
            if claims is None:
                raise _invalid({"reason": "invalid_signature"})
        if claims["exp"] - claims["iat"] > MAX_LIFETIME:
            raise _invalid({"reason": "lifetime_too_long"})
        return claims

    def _decode(self, token, keys):
        """The claims; None when no key in `keys` made the signature."""
        for key in keys:
            try:
                return jwt.decode(
                    token,
                    key,
                    algorithms=["EdDSA"],
                    audience=self.audience,
                    leeway=LEEWAY,
                    options={"require": ["iss", "aud", "iat", "exp"]},
                )
            except jwt.InvalidSignatureError:
                continue
            except jwt.ExpiredSignatureError:
                raise _invalid({"reason": "expired"}) from None
            except jwt.PyJWTError:
                raise _invalid({"reason": "invalid"}) from None
        return None


def require_service(trusted, token, allowed):
    """The calling service if `token` is a valid service token from one of `allowed`; else 401/403."""
    try:
        if not token:
            raise Unauthenticated(
                message="Thiếu chứng nhận của dịch vụ gọi. / The calling service did not identify itself.",
                details={"reason": "service_token_required"},
            )
        service = trusted.verify(token)
        if service not in allowed:
            raise Forbidden(details={"reason": "service_not_allowed", "service": service})
        return service
    except (Unauthenticated, InvalidToken, Forbidden) as exc:
        # inside the suite a refusal is a misconfiguration or someone on the broker: count it, alert on it
        metrics.SERVICE_CALLS_REFUSED.labels(trusted.audience, exc.details.get("reason", exc.code)).inc()
        log.warning("%s refused an RPC: %s", trusted.audience, exc.details.get("reason", exc.code))
        raise
