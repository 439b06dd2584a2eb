import os

import pytest

from services.identity import passwords


def test_hashes_are_argon2id_with_owasp_parameters():
    stored = passwords.hash_password("một mật khẩu dài")
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")


def test_a_vietnamese_password_verifies_whatever_its_unicode_normal_form():
    import unicodedata

    nfc = unicodedata.normalize("NFC", "Đảng viên gương mẫu")
    nfd = unicodedata.normalize("NFD", nfc)
    assert nfc != nfd
    assert passwords.verify(passwords.hash_password(nfd), nfc)


def test_a_wrong_password_or_no_account_does_not_verify():
    stored = passwords.hash_password("sotay-demo-2026")
    assert not passwords.verify(stored, "sotay-demo-2025")
    assert not passwords.verify(None, "anything")


def test_one_hashing_thread_per_core_the_process_may_use():
    # not the machine's count: under `taskset -c 1` two threads would hash at once on one core
    import os

    from eventlet import tpool

    assert tpool._nthreads == len(os.sched_getaffinity(0))


def test_needs_rehash_answers_as_argon2_does():
    from argon2 import PasswordHasher, Type

    current = passwords.HASHER.hash("Một mật khẩu dài")
    older = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1, type=Type.ID).hash("x")
    other_lengths = PasswordHasher(
        time_cost=2, memory_cost=19456, parallelism=1, hash_len=16, salt_len=32, type=Type.ID
    )
    for stored in (current, older, other_lengths.hash("x"), current.replace("argon2id", "argon2i")):
        assert passwords.needs_rehash(stored) == passwords.HASHER.check_needs_rehash(stored)
    assert not passwords.needs_rehash(current) and passwords.needs_rehash(older)


IDLE_PROCESS = """
import eventlet
eventlet.monkey_patch()

def resident_mb():
    with open("/proc/self/status") as status:
        return int(next(line for line in status if line.startswith("VmRSS")).split()[1]) // 1024

from services.identity import passwords
passwords.IDLE = 0.5
rest = resident_mb()
stored = passwords.hash_password("sotay-demo-2026")
pile = eventlet.GreenPile()
for _ in range(6):
    pile.spawn(passwords.verify, stored, "sotay-demo-2026")
assert all(pile)
busy = resident_mb()
eventlet.sleep(1.5)
print(rest, busy, resident_mb())
"""


def test_the_hashes_memory_goes_back_to_the_system_once_hashing_is_idle():
    """glibc kept each hashing thread's 19 MiB for good: identity at rest was 132 MB after its first sign-ins
    (target 120). In a process of its own: the allocator is set before any thread hashes."""
    import subprocess
    import sys

    if not os.path.exists("/proc/self/status"):
        pytest.skip("reads /proc")
    out = subprocess.run([sys.executable, "-c", IDLE_PROCESS], capture_output=True, text=True, timeout=60, check=True)
    rest, busy, idle = map(int, out.stdout.split())
    assert busy >= rest + 15, (rest, busy, idle)  # a hash's 19 MiB, at least, while hashing
    assert idle <= rest + 5, (rest, busy, idle)
