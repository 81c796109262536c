"""What this process may use of the machine: CPUs and memory, as its cgroups and affinity allow.

Inside a container `os.cpu_count()` is the host's: a service limited to 2 CPUs on a 64-core host
would run 64 password hashes at once, each with its own 64 MiB.
"""

import math
import os
from dataclasses import dataclass
from pathlib import Path

# Hashes may take this share of the memory the process may use; the rest is the service's.
HASHING_MEMORY_SHARE = 0.25
# cgroup v1 writes a number near 2**63 for "no limit".
NO_LIMIT_ABOVE = 2**60


@dataclass(frozen=True)
class Resources:
    cpus: int
    memory_bytes: int | None  # None: nothing known limits it


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


def _cgroup_v2_dirs(root: Path) -> list[Path]:
    """The process's own cgroup and every one above it: each one's limits apply."""
    lines = (_read(root / "proc/self/cgroup") or "").splitlines()
    own = next((line.removeprefix("0::") for line in lines if line.startswith("0::")), "/")
    mount = root / "sys/fs/cgroup"
    directory = mount / own.lstrip("/")
    return [directory, *(parent for parent in directory.parents if parent.is_relative_to(mount))]


def _cpu_quota(root: Path) -> float | None:
    quotas = []
    for directory in _cgroup_v2_dirs(root):
        quota, _, period = (_read(directory / "cpu.max") or "max").partition(" ")
        if quota != "max" and period:
            quotas.append(int(quota) / int(period))
    v1_quota = _read(root / "sys/fs/cgroup/cpu/cpu.cfs_quota_us")
    v1_period = _read(root / "sys/fs/cgroup/cpu/cpu.cfs_period_us")
    if v1_quota and v1_period and int(v1_quota) > 0:
        quotas.append(int(v1_quota) / int(v1_period))
    return min(quotas, default=None)


def _memory_limit(root: Path) -> int | None:
    limits = [
        int(value)
        for directory in _cgroup_v2_dirs(root)
        if (value := _read(directory / "memory.max")) and value.isdecimal()
    ]
    v1 = _read(root / "sys/fs/cgroup/memory/memory.limit_in_bytes")
    if v1 and v1.isdecimal() and int(v1) < NO_LIMIT_ABOVE:
        limits.append(int(v1))
    for line in (_read(root / "proc/meminfo") or "").splitlines():
        name, _, value = line.partition(":")
        if name == "MemAvailable" and value.split()[0].isdecimal():
            limits.append(int(value.split()[0]) * 1024)
    return min(limits, default=None)


def _affinity() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def usable_resources(root: Path = Path("/"), *, affinity: int | None = None) -> Resources:
    """The CPUs this process may run on and the memory it may take, read under `root`."""
    cpus = affinity if affinity is not None else _affinity()
    quota = _cpu_quota(root)
    if quota is not None:
        cpus = min(cpus, math.ceil(quota))
    return Resources(cpus=max(1, cpus), memory_bytes=_memory_limit(root))


def hashing_slots(resources: Resources, *, memory_per_hash: int) -> int:
    """Hashes to run at once: one per usable CPU, within a share of the memory."""
    if resources.memory_bytes is None:
        return resources.cpus
    by_memory = int(resources.memory_bytes * HASHING_MEMORY_SHARE) // memory_per_hash
    return max(1, min(resources.cpus, by_memory))
