"""A server process seen from outside, through /proc: its memory, CPU time, open descriptors and
TCP connections; and a bounded wait for one of them to change.

The churn and hostile tests and the soak prove that the server let go of what a client held, and
the benchmark measures memory and CPU, without asking the server itself.
"""

from __future__ import annotations

import asyncio
import os
import time

_TICK = os.sysconf("SC_CLK_TCK")


def rss_kib(pid: int) -> int:
    """VmRSS of a process, in KiB (what the kernel counts as resident: the Python heap, not socket
    buffers)."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used so far."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


def fd_count(pid: int) -> int:
    """Open file descriptors of a process."""
    return len(os.listdir(f"/proc/{pid}/fd"))


def server_connections(pid: int, port: int) -> dict[int, str]:
    """The process's TCP connections on its listening `port`, as {peer port: state} (state: 01
    established, 08 close-wait, ...; listening sockets left out)."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.add(int(link[8:-1]))
    found = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as lines:
                next(lines)
                for line in lines:
                    fields = line.split()
                    local, remote, state, inode = fields[1], fields[2], fields[3], int(fields[9])
                    if state == "0A" or inode not in inodes or int(local.rsplit(":", 1)[1], 16) != port:
                        continue
                    found[int(remote.rsplit(":", 1)[1], 16)] = state
        except FileNotFoundError:
            continue
    return found


async def wait_until(predicate, timeout: float, interval: float = 0.1) -> bool:
    """Poll predicate() until true or timeout; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return bool(value)
        await asyncio.sleep(interval)
