"""Resident memory of each service's processes (issue 14: ≤ 120 MB at rest, ≤ 250 MB under the benchmarks' load).

    with Peaks(started.suite.processes) as peaks:   # sampled every 0.2 s in a thread while the load runs
        ...
    peaks.mb            # {name: the highest resident set seen, MB}
    resident(processes) # {name: the resident set now, MB}

Read from /proc (Linux): VmRSS of the process and of every process below it.
"""

import os
import threading

AT_REST_MB, UNDER_LOAD_MB = 120, 250


def children():
    """pid → the pids of the processes it started, for every process now."""
    below = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    # the name may hold spaces and brackets: the parent's pid is the 2nd field after the last ')'
                    parent = int(handle.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            below.setdefault(parent, []).append(int(entry))
    return below


def _rss_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """CPU time (user + system) the process has spent so far; 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime


def tree(root, below):
    """`root` and every process below it, by `children()`."""
    pids, found = [root], []
    while pids:
        pid = pids.pop()
        found.append(pid)
        pids += below.get(pid, [])
    return found


def resident(processes):
    """{name: MB} for Popen objects by name, each with the processes it started."""
    below = children()
    return {name: sum(_rss_kb(pid) for pid in tree(process.pid, below)) / 1024 for name, process in processes.items()}


class Peaks:
    def __init__(self, processes, interval=0.2):
        self.processes, self.interval = processes, interval
        self.mb = {}
        self._done = threading.Event()

    def _run(self):
        while not self._done.wait(self.interval):
            for name, mb in resident(self.processes).items():
                self.mb[name] = max(self.mb.get(name, 0), mb)

    def __enter__(self):
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._done.set()
        self._thread.join()


def report(at_rest, peaks):
    print(f"\nresident memory per service (MB; targets ≤ {AT_REST_MB} at rest, ≤ {UNDER_LOAD_MB} under load)")
    print(f"{'service':12} {'at rest':>8} {'peak':>8}")
    for name in at_rest:
        rest, peak = at_rest[name], peaks.get(name, 0)
        over = " over" if rest > AT_REST_MB or peak > UNDER_LOAD_MB else ""
        print(f"{name:12} {rest:8.0f} {peak:8.0f}{over}")
