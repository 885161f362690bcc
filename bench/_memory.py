"""Resident memory of the running process, shared by the memory benchmarks."""


def rss_mb():
    """Resident set size of this process in MB (Linux `/proc`)."""
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("VmRSS not found in /proc/self/status")
