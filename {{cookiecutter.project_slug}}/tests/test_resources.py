"""Hash concurrency follows the CPUs and memory the process may use, not the host's."""

from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.core.resources import (
    Resources,
    hashing_slots,
    usable_resources,
)
from {{ cookiecutter.package_name }}.core.security import HASH_MEMORY_BYTES

GIB = 1024**3
HOST_MEMINFO = "MemTotal:       263921300 kB\nMemAvailable:   250000000 kB\n"


def machine(root: Path, files: dict[str, str]) -> Path:
    """A fake `/` holding only `files`, as a container or a host would show them."""
    for name, text in {"proc/meminfo": HOST_MEMINFO, **files}.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_a_cpu_limited_container_on_a_large_host(tmp_path: Path) -> None:
    root = machine(
        tmp_path,
        {
            "proc/self/cgroup": "0::/\n",
            "sys/fs/cgroup/cpu.max": "200000 100000\n",
            "sys/fs/cgroup/memory.max": f"{GIB}\n",
        },
    )

    resources = usable_resources(root, affinity=64)

    assert resources == Resources(cpus=2, memory_bytes=GIB)
    assert hashing_slots(resources, memory_per_hash=HASH_MEMORY_BYTES) == 2


def test_memory_bounds_the_hashes_when_it_is_short(tmp_path: Path) -> None:
    root = machine(
        tmp_path,
        {
            "proc/self/cgroup": "0::/\n",
            "sys/fs/cgroup/cpu.max": "max 100000\n",
            "sys/fs/cgroup/memory.max": f"{512 * 1024**2}\n",
        },
    )

    resources = usable_resources(root, affinity=8)

    # A quarter of 512 MiB holds two hashes of 64 MiB.
    assert resources.cpus == 8
    assert hashing_slots(resources, memory_per_hash=HASH_MEMORY_BYTES) == 2


def test_limits_of_a_parent_cgroup_apply(tmp_path: Path) -> None:
    root = machine(
        tmp_path,
        {
            "proc/self/cgroup": "0::/system.slice/orders.service\n",
            "sys/fs/cgroup/system.slice/cpu.max": "150000 100000\n",
            "sys/fs/cgroup/system.slice/orders.service/cpu.max": "max 100000\n",
            "sys/fs/cgroup/system.slice/orders.service/memory.max": "max\n",
        },
    )

    assert usable_resources(root, affinity=16).cpus == 2


def test_cgroup_v1_quota_and_memory_limit(tmp_path: Path) -> None:
    root = machine(
        tmp_path,
        {
            "proc/self/cgroup": "4:cpu,cpuacct:/docker/abc\n",
            "sys/fs/cgroup/cpu/cpu.cfs_quota_us": "50000\n",
            "sys/fs/cgroup/cpu/cpu.cfs_period_us": "100000\n",
            "sys/fs/cgroup/memory/memory.limit_in_bytes": f"{2 * GIB}\n",
        },
    )

    assert usable_resources(root, affinity=32) == Resources(cpus=1, memory_bytes=2 * GIB)


def test_cgroup_v1_without_limits(tmp_path: Path) -> None:
    root = machine(
        tmp_path,
        {
            "sys/fs/cgroup/cpu/cpu.cfs_quota_us": "-1\n",
            "sys/fs/cgroup/cpu/cpu.cfs_period_us": "100000\n",
            "sys/fs/cgroup/memory/memory.limit_in_bytes": "9223372036854771712\n",
        },
    )

    assert usable_resources(root, affinity=4) == Resources(cpus=4, memory_bytes=250000000 * 1024)


def test_affinity_bounds_the_cpus_without_any_cgroup(tmp_path: Path) -> None:
    assert usable_resources(machine(tmp_path, {}), affinity=3).cpus == 3


@pytest.mark.parametrize("memory", [None, 1])
def test_there_is_always_one_slot(memory: int | None) -> None:
    assert hashing_slots(Resources(cpus=1, memory_bytes=memory), memory_per_hash=64) == 1


def test_this_machine_gives_at_least_one_slot() -> None:
    resources = usable_resources()

    assert resources.cpus >= 1
    assert hashing_slots(resources, memory_per_hash=HASH_MEMORY_BYTES) >= 1
