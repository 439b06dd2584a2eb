"""Password hashing: argon2id with OWASP's parameters (visible in each stored hash).

Hashing runs in eventlet's pool of OS threads: argon2 releases the GIL, so the
service uses every core and its green threads keep serving meanwhile. One thread
per core the process may run on (its affinity: `taskset`, a cpuset, not the
machine's count): more hashes at once would only share the cores and thrash the
caches (each walks 19 MiB), and glibc gives each thread that hashes a malloc
arena of its own, which keeps its 19 MiB after the hash (eventlet's default 20
threads held ~300 MB more under a sign-in wave: `make bench`'s memory table;
identity is the pool's only user). Hashes wait in the pool's own queue, so a
thread that finishes one starts the next without a turn of the event loop.
"""

import os
import unicodedata

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from eventlet import tpool

# OWASP Password Storage Cheat Sheet: argon2id, m=19 MiB, t=2, p=1.
HASHER = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1, hash_len=32, salt_len=16, type=Type.ID)
tpool.set_num_threads(len(os.sched_getaffinity(0)))


def _run(function, *args):
    return tpool.execute(function, *args)


# verified when the account is unknown, so that answer takes as long as a wrong password
_DUMMY_HASH = HASHER.hash("sotay-timing-equaliser")


def normalize(password):
    return unicodedata.normalize("NFC", password)


def hash_password(password):
    return _run(HASHER.hash, normalize(password))


def verify(password_hash, password):
    if not password_hash:
        _spend_time(password)
        return False
    try:
        return _run(HASHER.verify, password_hash, normalize(password))
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _spend_time(password):
    try:
        _run(HASHER.verify, _DUMMY_HASH, normalize(password))
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        pass


# a hash made with today's parameters: this prefix, then a salt and a digest of these lengths (base64, no padding)
_CURRENT, _SALT_DIGEST = _DUMMY_HASH.rsplit("$", 2)[0] + "$", tuple(map(len, _DUMMY_HASH.rsplit("$", 2)[1:]))


def needs_rehash(password_hash):
    # every sign-in asks: a hash of today's shape is answered without argon2's parse (a split and a dict of
    # parameters: 25 µs of CPU with the caches cold), anything else as argon2 answers it
    if password_hash.startswith(_CURRENT):
        rest = password_hash[len(_CURRENT) :].split("$")
        if tuple(map(len, rest)) == _SALT_DIGEST:
            return False
    return HASHER.check_needs_rehash(password_hash)
