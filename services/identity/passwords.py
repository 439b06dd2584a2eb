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

import ctypes
import os
import unicodedata

import eventlet
from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from eventlet import patcher, tpool

# OWASP Password Storage Cheat Sheet: argon2id, m=19 MiB, t=2, p=1.
HASHER = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1, hash_len=32, salt_len=16, type=Type.ID)
THREADS = len(os.sched_getaffinity(0))
tpool.set_num_threads(THREADS)

IDLE = 5.0  # seconds without a hash before the hashes' memory goes back to the system
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters (malloc.h)
KEEP, GIVE_BACK = 64 << 20, 128 << 10  # the trim threshold between hashes, and while giving back


class _Allocator:
    """The hashes' memory, kept while hashes come and given back when hashing has been idle IDLE seconds.

    glibc gives each hashing thread a malloc arena of its own (argon2's blocks only: no fragmentation) and by
    default keeps a hash's 19 MiB in it for good after the first few hashes: identity at rest was 132 MB after its
    first sign-ins (bench.run's memory table, target 120). The thresholds are fixed here (a hash's 19 MiB comes
    from the thread's arena and stays there between hashes: no page faults per hash), and once hashing is idle the
    tops of the arenas go back: the main one's by `malloc_trim`, each hashing thread's by a free in that thread while
    the trim threshold is low (glibc trims a thread's arena only on a free there). A single arena for the process
    gave the memory back as well but grew in a 30-minute soak (115 → 158 MB: Python's objects fragmenting the
    hashes' blocks). Elsewhere than glibc nothing changes."""

    def __init__(self):
        try:
            libc = ctypes.CDLL("libc.so.6")
            libc.malloc.restype = ctypes.c_void_p
            libc.free.argtypes = [ctypes.c_void_p]
            libc.mallopt(M_MMAP_THRESHOLD, 32 << 20)
            libc.mallopt(M_TRIM_THRESHOLD, KEEP)
            self._libc = libc
        except (OSError, AttributeError):
            self._libc = None
        self.hashes = 0
        self._watching = False

    def give_back(self, hashing_threads=True):
        libc = self._libc
        if libc is None:
            return
        libc.mallopt(M_TRIM_THRESHOLD, GIVE_BACK)
        try:
            if hashing_threads:
                # one free in each pool thread: all of them at once, held by a barrier of real threads
                barrier = patcher.original("threading").Barrier(THREADS, timeout=5)
                pile = eventlet.GreenPile()
                for _ in range(THREADS):
                    pile.spawn(tpool.execute, self._free_in_this_thread, barrier)
                list(pile)
            libc.malloc_trim(0)
        finally:
            libc.mallopt(M_TRIM_THRESHOLD, KEEP)

    def _free_in_this_thread(self, barrier):
        try:
            barrier.wait()
        except Exception:  # a thread busy elsewhere (a hash began): its arena waits for the next idle time
            return
        self._libc.free(self._libc.malloc(GIVE_BACK * 2))  # a free this large makes glibc try to trim the arena

    def hashed(self):
        self.hashes += 1
        if self._libc is not None and not self._watching:
            self._watching = True
            eventlet.spawn(self._give_back_when_idle)

    def _give_back_when_idle(self):
        seen = given_back = self.hashes
        while True:
            eventlet.sleep(IDLE)
            if self.hashes != seen:  # still hashing
                seen = self.hashes
            elif given_back != seen:
                self.give_back()
                given_back = seen


_ALLOCATOR = _Allocator()


def _run(function, *args):
    try:
        return tpool.execute(function, *args)
    finally:
        _ALLOCATOR.hashed()


# verified when the account is unknown, so that answer takes as long as a wrong password
_DUMMY_HASH = HASHER.hash("sotay-timing-equaliser")
_ALLOCATOR.give_back(hashing_threads=False)  # that hash's 19 MiB, made here in the main thread


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
