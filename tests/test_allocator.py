"""The malloc settings of the figure kernels (resurface.allocator)."""

import os
import platform
import subprocess
import sys

import pytest

from resurface import allocator

CHILD = """
import resource
for _ in range(40):
    b = bytearray(64 << 20)  # 64 MiB, above glibc's largest dynamic mmap threshold
    b[::4096] = b"x" * len(b[::4096])
    del b
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt)
"""


def test_kernel_env_sets_the_tunables_only_when_unset():
    assert allocator.kernel_env({}) == {"GLIBC_TUNABLES": allocator.TUNABLES}
    assert allocator.kernel_env({"GLIBC_TUNABLES": ""}) == {}  # the user's choice, even "defaults"
    assert "mmap_threshold" in allocator.TUNABLES and "trim_threshold" in allocator.TUNABLES


@pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc only")
def test_the_tunables_stop_large_blocks_from_faulting_in_again():
    def faults(env: dict) -> int:
        e = {k: v for k, v in os.environ.items() if k != "GLIBC_TUNABLES"} | env
        return int(subprocess.run([sys.executable, "-c", CHILD], env=e, capture_output=True, text=True,
                                  check=True).stdout)

    plain, tuned = faults({}), faults(allocator.kernel_env({}))
    assert plain > 40 * 16384 * 0.9  # every 64 MiB block is mapped afresh: 16,384 pages each
    assert tuned < plain / 5
