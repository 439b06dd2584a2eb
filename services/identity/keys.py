"""Signing keys: Ed25519, one PEM file per key in the keys directory.

The newest key signs; every key in the directory is published in the JWKS,
so tokens signed by the previous key keep verifying until they expire
(rotation with overlap: add a key, wait one token lifetime, remove the old).
"""

import base64
import json
import os
import time
from calendar import timegm
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from shared import config
from shared.auth import ACCESS_TOKEN_TYPE


def keys_dir():
    configured = config.get("IDENTITY_KEYS_DIR")
    return Path(configured) if configured else config.data_dir() / "identity-keys"


def _b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


_TIME_CLAIMS = ("exp", "iat", "nbf")


def _json(value):
    return json.dumps(value, separators=(",", ":")).encode()


def generate_key(directory):
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    now = time.time()
    # sortable by creation time (the newest key signs), down to the microsecond
    kid = time.strftime("%Y%m%d%H%M%S", time.gmtime(now)) + f"{int(now % 1 * 1e6):06d}-" + _b64(os.urandom(4))
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    path = directory / f"{kid}.pem"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    return kid


class KeyStore:
    def __init__(self, directory):
        self.directory = Path(directory)
        self._keys = {}
        self._seen = None
        self._checked_at = 0.0
        self.reload()

    def reload(self):
        keys = {}
        for path in sorted(self.directory.glob("*.pem")):
            keys[path.stem] = serialization.load_pem_private_key(path.read_bytes(), password=None)
        self._keys = keys
        self._headers = {}  # kid → its encoded JWS header
        self._seen = self._stamp()

    def _stamp(self):
        return sorted(p.name for p in self.directory.glob("*.pem"))

    def _fresh(self, every=10.0):
        # a rotation on disk (another replica, the operator's CLI) is picked up without a restart;
        # the directory is looked at every few seconds, not on every token signed
        now = time.monotonic()
        if now - self._checked_at < every:
            return
        self._checked_at = now
        if self._stamp() != self._seen:
            self.reload()

    @classmethod
    def open(cls, directory, create=True):
        directory = Path(directory)
        if create and not any(directory.glob("*.pem")):
            generate_key(directory)
        return cls(directory)

    @property
    def signing_kid(self):
        return max(self._keys)  # kids start with their creation time

    def jwks(self):
        self._fresh()
        keys = []
        for kid, key in sorted(self._keys.items()):
            raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            keys.append({"kty": "OKP", "crv": "Ed25519", "x": _b64(raw), "kid": kid, "use": "sig", "alg": "EdDSA"})
        return {"keys": keys}

    def sign(self, claims):
        """A compact JWS of `claims`: byte for byte `jwt.encode(claims, key, algorithm="EdDSA", headers={"kid": kid,
        "typ": "at+jwt"})` (Ed25519 is deterministic: a test compares them), without PyJWT's checks and assembly
        around the signature each time (every sign-in signs one: 10–35 µs of CPU with the caches cold)."""
        self._fresh()
        kid = self.signing_kid
        header = self._headers.get(kid)
        if header is None:
            header = self._headers[kid] = _b64(_json({"alg": "EdDSA", "kid": kid, "typ": ACCESS_TOKEN_TYPE}))
        payload = {  # as PyJWT: a datetime in exp, iat or nbf becomes a NumericDate (whole seconds)
            name: timegm(value.utctimetuple()) if name in _TIME_CLAIMS and isinstance(value, datetime) else value
            for name, value in claims.items()
        }
        signing_input = f"{header}.{_b64(_json(payload))}"
        return f"{signing_input}.{_b64(self._keys[kid].sign(signing_input.encode()))}"


USAGE = """python -m services.identity.keys list|rotate|retire <kid>

rotate  add a new signing key; it signs from now on, the old ones keep verifying
retire  remove an old key, once its successor has signed for longer than an access token lives"""


def main(argv=None):
    import sys
    from datetime import timedelta

    from services.identity.domain import ACCESS_TOKEN_TTL

    argv = sys.argv[1:] if argv is None else argv
    config.load("identity")
    directory = keys_dir()
    store = KeyStore.open(directory)
    if argv[:1] == ["list"]:
        for kid in sorted(store._keys):
            print(kid, "(signing)" if kid == store.signing_kid else "")
    elif argv[:1] == ["rotate"]:
        print("new signing key:", generate_key(directory))
    elif argv[:1] == ["retire"] and len(argv) == 2:
        kid = argv[1]
        if kid not in store._keys or kid == store.signing_kid:
            raise SystemExit("name an old key (not the signing one): see `list`")
        successor = min(k for k in store._keys if k > kid)
        since = datetime.strptime(successor[:14], "%Y%m%d%H%M%S").replace(tzinfo=UTC)
        if datetime.now(UTC) - since < ACCESS_TOKEN_TTL + timedelta(minutes=1):
            raise SystemExit("tokens signed by this key may still be alive: retire it later")
        (directory / f"{kid}.pem").unlink()
        print("retired", kid)
    else:
        raise SystemExit(USAGE)


if __name__ == "__main__":
    main()
