"""Node packages a test needs (a certified OpenID provider, the AsyncAPI schemas), pinned by a lockfile in a
folder of tests/support/ and installed once with `npm ci` into a cache directory keyed by that lockfile; a
test is skipped only when npm cannot reach its registry."""

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

CACHE = Path(os.environ.get("SOTAY_NODE_CACHE", Path.home() / ".cache" / "sotay-tests"))


def install(project, package):
    """The directory holding node_modules/<package> as `project`'s lockfile pins it (installed on first use)."""
    lock = (project / "package-lock.json").read_bytes()
    home = CACHE / f"{package.replace('/', '-').lstrip('@')}-{hashlib.sha256(lock).hexdigest()[:16]}"
    if (home / "node_modules" / package / "package.json").exists():
        return home
    CACHE.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f"{home.name}-", dir=CACHE))
    for name in ("package.json", "package-lock.json"):
        shutil.copy(project / name, work / name)
    installed = subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts"],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if installed.returncode != 0:
        shutil.rmtree(work, ignore_errors=True)
        if subprocess.run(["npm", "ping"], capture_output=True, timeout=60).returncode != 0:
            pytest.skip(f"npm cannot reach its registry to install {package}:\n" + installed.stderr[-2000:])
        raise RuntimeError("npm ci failed:\n" + installed.stderr[-5000:])
    try:
        work.rename(home)  # atomic: a parallel run that won the race keeps its copy
    except OSError:
        shutil.rmtree(work, ignore_errors=True)
    return home
