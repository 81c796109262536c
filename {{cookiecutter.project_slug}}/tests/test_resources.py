"""Hash concurrency follows the CPUs and memory the process may use, not the host's."""

from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.core.resources import (
    Resources,
    hashing_slots,
    usable_resources,
)
from {{ cookiecutter.package_name }}.core.security import HASH_MEMORY_BYTES

MIB = 1024**2
GIB = 1024**3
HOST_MEMINFO = "MemTotal:       263921300 kB\nMemAvailable:   250000000 kB\n"
HOST_AVAILABLE_BYTES = 250000000 * 1024


def machine(root: Path, files: dict[str, str]) -> Path:
    """A fake `/` holding only `files`, as a container or a host would show them."""
    for name, text in {"proc/meminfo": HOST_MEMINFO, **files}.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@pytest.mark.parametrize(
    ("files", "affinity", "expected"),
    [
        pytest.param(
            {
                "proc/self/cgroup": "0::/\n",
                "sys/fs/cgroup/cpu.max": "200000 100000\n",
                "sys/fs/cgroup/memory.max": f"{GIB}\n",
            },
            64,
            Resources(cpus=2, memory_bytes=GIB),
            id="cpu-limited-container-on-a-large-host",
        ),
        pytest.param(
            {
                "proc/self/cgroup": "0::/\n",
                "sys/fs/cgroup/cpu.max": "max 100000\n",
                "sys/fs/cgroup/memory.max": f"{512 * MIB}\n",
            },
            8,
            Resources(cpus=8, memory_bytes=512 * MIB),
            id="memory-limited-container",
        ),
        pytest.param(
            {
                "proc/self/cgroup": "0::/system.slice/orders.service\n",
                "sys/fs/cgroup/system.slice/cpu.max": "150000 100000\n",
                "sys/fs/cgroup/system.slice/orders.service/cpu.max": "max 100000\n",
                "sys/fs/cgroup/system.slice/orders.service/memory.max": "max\n",
            },
            16,
            Resources(cpus=2, memory_bytes=HOST_AVAILABLE_BYTES),
            id="limits-of-a-parent-cgroup-apply",
        ),
        pytest.param(
            {
                "proc/self/cgroup": "4:cpu,cpuacct:/docker/abc\n",
                "sys/fs/cgroup/cpu/cpu.cfs_quota_us": "50000\n",
                "sys/fs/cgroup/cpu/cpu.cfs_period_us": "100000\n",
                "sys/fs/cgroup/memory/memory.limit_in_bytes": f"{2 * GIB}\n",
            },
            32,
            Resources(cpus=1, memory_bytes=2 * GIB),
            id="cgroup-v1-quota-and-memory-limit",
        ),
        pytest.param(
            {
                "sys/fs/cgroup/cpu/cpu.cfs_quota_us": "-1\n",
                "sys/fs/cgroup/cpu/cpu.cfs_period_us": "100000\n",
                "sys/fs/cgroup/memory/memory.limit_in_bytes": "9223372036854771712\n",
            },
            4,
            Resources(cpus=4, memory_bytes=HOST_AVAILABLE_BYTES),
            id="cgroup-v1-without-limits",
        ),
        pytest.param({}, 3, Resources(cpus=3, memory_bytes=HOST_AVAILABLE_BYTES), id="no-cgroup"),
    ],
)
def test_usable_resources_follow_the_tightest_limit(
    tmp_path: Path, files: dict[str, str], affinity: int, expected: Resources
) -> None:
    assert usable_resources(machine(tmp_path, files), affinity=affinity) == expected


@pytest.mark.parametrize(
    ("resources", "slots"),
    [
        (Resources(cpus=2, memory_bytes=GIB), 2),
        # A quarter of 512 MiB holds two hashes of 64 MiB, whatever the CPUs.
        (Resources(cpus=8, memory_bytes=512 * MIB), 2),
    ],
)
def test_hashing_slots_follow_cpus_and_memory(resources: Resources, slots: int) -> None:
    assert hashing_slots(resources, memory_per_hash=HASH_MEMORY_BYTES) == slots


@pytest.mark.parametrize("memory", [None, 1])
def test_there_is_always_one_slot(memory: int | None) -> None:
    assert hashing_slots(Resources(cpus=1, memory_bytes=memory), memory_per_hash=64) == 1


def test_this_machine_gives_at_least_one_slot() -> None:
    resources = usable_resources()

    assert resources.cpus >= 1
    assert hashing_slots(resources, memory_per_hash=HASH_MEMORY_BYTES) >= 1
