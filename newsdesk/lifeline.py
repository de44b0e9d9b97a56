"""Child processes that end with the process that started them, kill -9 included.

A killed CLI used to leave its spaCy workers, the multiprocessing resource
tracker and its temporary Prefect server running. Two mechanisms, one per kind
of child:
- extraction workers watch their parent from a thread and exit when it is gone
  (PR_SET_PDEATHSIG would fire when the *thread* that spawned them ends, and
  Prefect runs tasks on short-lived threads); the resource tracker exits on its
  own once every holder of its pipe (parent and workers) is gone;
- a child we cannot start ourselves (Prefect's temporary server) gets a tiny
  reaper process that holds one end of a pipe whose other end only we hold: when
  we die, the kernel closes it, the reaper reads EOF and stops the child.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time

log = logging.getLogger("newsdesk.lifeline")
PARENT_POLL_SECONDS = 0.5


def die_with_parent(parent_pid: int) -> None:
    """Pool initializer: exit this worker soon after `parent_pid` is gone."""
    threading.Thread(target=_watch_parent, args=(parent_pid,), name="newsdesk-lifeline", daemon=True).start()


def _watch_parent(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(PARENT_POLL_SECONDS)
    os._exit(1)  # no cleanup to do: the parent that would read our results is gone


# Runs in the reaper: wait for EOF on stdin (our parent died or let go), then stop
# the child unless it is already gone or its pid now belongs to another process.
_REAPER = r"""
import os, signal, sys, time
pid = int(sys.argv[1])
signal.signal(signal.SIGINT, signal.SIG_IGN)
def started(p):
    try:
        with open(f"/proc/{p}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[19]
    except OSError:
        return None
birth = started(pid)
sys.stdin.buffer.read()
for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 0.0)):
    if birth is None or started(pid) != birth:
        sys.exit(0)
    os.kill(pid, sig)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline and started(pid) == birth:
        time.sleep(0.05)
"""

_reapers: list[subprocess.Popen] = []


def reap_with_us(pid: int) -> None:
    """Stop process `pid` when this process ends, however it ends."""
    if not os.path.isdir("/proc"):
        return  # the reaper identifies processes through /proc; elsewhere, atexit alone
    reaper = subprocess.Popen(
        [sys.executable, "-S", "-c", _REAPER, str(pid)],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    _reapers.append(reaper)  # keeps the pipe's write end open for our lifetime
