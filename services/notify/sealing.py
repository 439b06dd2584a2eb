"""One-time codes at rest: sealed under a key notify holds, readable only while they may be sent.

A code waits in the delivery log only if the first send failed; it is kept
encrypted (Fernet: AES-CBC with an HMAC, from `cryptography`) and erased once it
is sent, fails for good or expires. The key: `NOTIFY_CODE_KEY` (a Fernet key,
the same on every replica), else — outside production — a key file created
under the data directory.
"""

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from shared import config

_ciphers = {}


def key_file():
    configured = config.get("NOTIFY_KEYS_DIR")
    return (Path(configured) if configured else config.data_dir() / "notify-keys") / "codes.key"


def _load_key():
    configured = config.get("NOTIFY_CODE_KEY")
    if configured:
        return configured.encode()
    path = key_file()
    if not path.exists():
        if config.environment() == "production":
            raise RuntimeError(
                "NOTIFY_CODE_KEY is not set: provision one key for every notify replica "
                "(python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key())')"
            )
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first
            return path.read_bytes().strip()
        with os.fdopen(fd, "wb") as handle:
            handle.write(Fernet.generate_key())
    return path.read_bytes().strip()


def _cipher():
    # one per key source: tests run notify over several data directories in one process
    source = config.get("NOTIFY_CODE_KEY") or str(key_file())
    if source not in _ciphers:
        _ciphers[source] = Fernet(_load_key())
    return _ciphers[source]


def seal(text):
    return _cipher().encrypt(text.encode()).decode()


def unseal(token):
    """The text, or None when it cannot be read (erased, or sealed under another key)."""
    try:
        return _cipher().decrypt(token.encode()).decode()
    except (InvalidToken, ValueError):
        return None
