"""Writes definitions.json with real password hashes, for RabbitMQ to load at boot.

    python render_definitions.py definitions.json /somewhere/private/definitions.json

The committed definitions.json gives every user an empty password hash (no password login),
so the repository holds no credential. This fills each one from <USER>_AMQP_PASSWORD
(IDENTITY_AMQP_PASSWORD, …, OPERATOR_AMQP_PASSWORD) and fails if one is missing. Standard
library only: compose runs it in a bare python image before the broker starts.
"""

import base64
import hashlib
import json
import os
import secrets
import sys


def password_hash(password):
    """RabbitMQ's rabbit_password_hashing_sha256: base64(salt + sha256(salt + password)), 4-byte salt."""
    salt = secrets.token_bytes(4)
    return base64.b64encode(salt + hashlib.sha256(salt + password.encode()).digest()).decode()


def main(argv):
    if len(argv) != 2:
        raise SystemExit(__doc__)
    source, target = argv
    with open(source, encoding="utf-8") as handle:
        definitions = json.load(handle)
    missing = []
    for user in definitions["users"]:
        variable = f"{user['name'].upper()}_AMQP_PASSWORD"
        password = os.environ.get(variable)
        if not password:
            missing.append(variable)
            continue
        user["password_hash"] = password_hash(password)
        user["hashing_algorithm"] = "rabbit_password_hashing_sha256"
    if missing:
        raise SystemExit("set " + ", ".join(missing))
    # 0644 because the broker reads it as another user than the one writing it: keep the target on a
    # volume only the broker mounts (the hashes are salted, but still worth guarding)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(definitions, handle, indent=2, ensure_ascii=False)
    print(f"wrote {target}: {len(definitions['users'])} users")


if __name__ == "__main__":
    main(sys.argv[1:])
