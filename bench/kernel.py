"""What the benchmark reads from the kernel: probes that show when namespaces are really gone,
the memory of processes, and the processes of the benchmark's own PID namespace.

Everything here runs inside the benchmark's private namespaces (run.py re-executes itself in
them), so the only interfaces it sees or creates are its own.
"""
import os
import socket
import subprocess
import time


def sample(items, count):
    """Up to `count` items spread evenly, always with the first and the last."""
    items = list(items)
    if len(items) <= count:
        return items
    step = (len(items) - 1) / (count - 1)
    return [items[round(i * step)] for i in range(count)]


# The kernel's ARP table is one for all namespaces and evicts only entries older than 5 s once it
# holds gc_thresh3 (1024) of them; a chain's 60-hop window makes ~120.
ARP_WINDOWS_PER_PAUSE = 4
ARP_PAUSE = 5.5


def arp_paced(checks):
    """The lab's pings, paused every few windows so the ARP entries they make never exceed what
    the kernel's shared table can hold at once."""
    for index, check in enumerate(checks):
        if index and index % ARP_WINDOWS_PER_PAUSE == 0:
            time.sleep(ARP_PAUSE)
        yield check


class Probes:
    """veth pairs with one end in a lab's node and the other in the benchmark's namespace. The
    kernel deletes the pair when the node's namespace is cleaned up, so the benchmark's end
    vanishing is the kernel's own word that this node's devices are gone."""

    def __init__(self, targets):
        """targets: namespaces as `ip link ... netns` takes them (a PID or a name)."""
        self.names = [f"bprobe{i}" for i in range(len(targets))]
        lines = [f"link add {name} type veth peer name bprobe netns {target}"
                 for name, target in zip(self.names, targets)]
        subprocess.run(["ip", "-batch", "-"], input="\n".join(lines) + "\n", text=True,
                       check=True)

    def left(self):
        present = {name for _, name in socket.if_nameindex()}
        return [name for name in self.names if name in present]

    def wait_gone(self, start, timeout=60.0, process=None):
        """Polls until every probe is gone and `process` (a Popen, optional) has exited.
        Returns (seconds until the process exited, seconds until the last probe went), both
        from `start` (a time.perf_counter() value); None for a probe time means timeout."""
        exited = None if process else start
        gone = None
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            now = time.perf_counter()
            if exited is None and process.poll() is not None:
                exited = now
            if gone is None and not self.left():
                gone = now
            if exited is not None and gone is not None:
                break
            time.sleep(0.001)
        if exited is None:
            process.wait()
            exited = time.perf_counter()
        return exited - start, (gone - start) if gone is not None else None


def pss_kib(pid):
    """The proportional set size of a process, in KiB (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as rollup:
            for line in rollup:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return 0


def descendants(pid):
    """pid and every process below it."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as children:
                    todo.extend(int(child) for child in children.read().split())
        except (FileNotFoundError, ProcessLookupError):
            pass
    return found


def tree_pss_kib(pid):
    return sum(pss_kib(p) for p in descendants(pid))


def stray_processes():
    """Processes of the benchmark's PID namespace that are neither its init (PID 1) nor this
    benchmark and its ancestors: after a `down`, any is residue."""
    mine = {1}
    pid = os.getpid()
    while pid > 1:
        mine.add(pid)
        with open(f"/proc/{pid}/stat") as stat:
            pid = int(stat.read().rsplit(")", 1)[1].split()[1])
    stray = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) not in mine:
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    text = stat.read()
            except FileNotFoundError:
                continue
            state = text.rsplit(")", 1)[1].split()[0]
            if state != "Z":
                stray.append(f"{entry} {text.split('(', 1)[1].split(')', 1)[0]}")
    return stray


def interfaces():
    """The interfaces of the benchmark's own namespace, other than lo."""
    return sorted(name for _, name in socket.if_nameindex() if name != "lo")
