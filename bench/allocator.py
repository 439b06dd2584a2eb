"""CPU per argon2id verify (identity's parameters) in a thread, with glibc's default malloc thresholds or with the
fixed ones identity sets (services/identity/passwords.py `_Allocator`), each round in a fresh process:

    taskset -c 1 python -m bench.allocator [ROUNDS] [VERIFIES]     # alternating default / fixed, ROUNDS times

Prints each run's CPU and wall time per verify and the minor page faults per verify (a hash's 19 MiB mapped anew
each time would show as ~4,900)."""

import ctypes
import resource
import subprocess
import sys
import threading
import time

from argon2 import PasswordHasher, Type

PASSWORD = "mật khẩu thử"


def measure(mode, verifies):
    if mode == "fixed":  # as _Allocator: M_MMAP_THRESHOLD 32 MiB, M_TRIM_THRESHOLD 64 MiB
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, 32 << 20)
        libc.mallopt(-1, 64 << 20)
    hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1, hash_len=32, salt_len=16, type=Type.ID)
    stored, seen = hasher.hash(PASSWORD), {}

    def work():
        for _ in range(5):  # warm: glibc's dynamic threshold settles after the first frees
            hasher.verify(stored, PASSWORD)
        faults = resource.getrusage(resource.RUSAGE_THREAD).ru_minflt
        cpu, wall = time.thread_time(), time.perf_counter()
        for _ in range(verifies):
            hasher.verify(stored, PASSWORD)
        seen.update(
            cpu=(time.thread_time() - cpu) / verifies * 1000,
            wall=(time.perf_counter() - wall) / verifies * 1000,
            faults=(resource.getrusage(resource.RUSAGE_THREAD).ru_minflt - faults) / verifies,
        )

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    print(f"{mode:8} cpu {seen['cpu']:6.2f} ms  wall {seen['wall']:6.2f} ms  page faults {seen['faults']:.0f}")


def main(argv):
    if argv and argv[0] in ("default", "fixed"):
        return measure(argv[0], int(argv[1]))
    rounds, verifies = (int(argv[0]) if argv else 3), (argv[1] if len(argv) > 1 else "30")
    for _ in range(rounds):
        for mode in ("default", "fixed"):
            subprocess.run([sys.executable, "-m", "bench.allocator", mode, verifies], check=True)


if __name__ == "__main__":
    main(sys.argv[1:])
