"""System calls a server makes while the bench publishes (bench/run --syscalls).

`perf stat` counts the kernel's syscall tracepoints for the server's PID. It starts
with its counters off (`-D -1`) and is switched on and off through a control FIFO
(`--control`), when `wspush bench` says on stderr that it is publishing and that it has
published: the connects and closes around the measurement are not counted, so the
counts divide by the run's deliveries like its CPU does.
"""
import os
import signal
import subprocess

from servers import stop_process

# What a server sends with: asio and wspush use sendmsg, libuv (Node) writev, Python
# send (sendto); io_uring_enter is a whole batch of sends.
SENDS = ["sendmsg", "sendto", "write", "writev", "sendmmsg"]
EVENTS = [f"syscalls:sys_enter_{name}" for name in SENDS + ["io_uring_enter"]] + [
    "raw_syscalls:sys_enter"]


def perf_counts_syscalls():
    """Whether perf may count syscall tracepoints here (root, or a low paranoia level)."""
    try:
        probe = subprocess.run(["perf", "stat", "-x,", "-e", EVENTS[0], "true"],
                               capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0 and "not supported" not in probe.stderr


class SyscallCounter:
    """perf stat on one PID, counting only between enable() and disable()."""

    def __init__(self, pid, workdir, name):
        base = os.path.join(workdir, f"perf-{name}-{pid}")
        self.ctl, self.ack, self.out = base + ".ctl", base + ".ack", base + ".txt"
        for fifo in (self.ctl, self.ack):
            os.mkfifo(fifo)
        self.proc = subprocess.Popen(
            ["perf", "stat", "-x,", "-D", "-1", "--control", f"fifo:{self.ctl},{self.ack}",
             "-e", ",".join(EVENTS), "-p", str(pid), "-o", self.out],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # Opening blocks until perf has the other ends: then it is attached.
        self.ctl_file = open(self.ctl, "w")
        self.ack_file = open(self.ack, "r")

    def _command(self, word):
        self.ctl_file.write(word + "\n")
        self.ctl_file.flush()
        self.ack_file.readline()  # "ack": the counters are switched

    def enable(self):
        self._command("enable")

    def disable(self):
        self._command("disable")

    def stop(self):
        """Ends perf; returns {"sendmsg": n, …, "all": n}."""
        self.ctl_file.close()
        self.ack_file.close()
        stop_process(self.proc, signal.SIGINT)  # perf prints its counts on SIGINT
        counts = {}
        with open(self.out) as f:
            for line in f:
                fields = line.strip().split(",")
                if len(fields) > 2 and fields[0].isdigit():
                    name = fields[2].split(":")[-1].replace("sys_enter_", "")
                    counts["all" if name == "sys_enter" else name] = int(fields[0])
        for path in (self.ctl, self.ack):
            os.unlink(path)
        return counts
