"""`make run`: web, Celery worker and Celery beat under honcho (Procfile.dev) until Ctrl-C.

Ctrl-C is how a developer stops them, so it is a normal stop: every process gets SIGTERM,
finishes what it is doing, and this script exits 0. Plain `honcho start` gets this wrong in
two ways:

* it exits 130 (128 + SIGINT) after every Ctrl-C, and make reports "Error 130";
* it sends SIGKILL to whatever still runs five seconds after the first process stopped
  (``honcho.manager.KILL_WAIT``; honcho 2.0 has no option for it). The web server and beat
  stop in under a second, but a Celery worker on the filesystem broker needs two to five
  seconds for a warm shutdown: its polling loop only notices the stop between two-second
  waits for the broker, and runs one more wait on the way out. So the worker was killed
  mid-shutdown (and with it any mail it was sending).

So honcho runs here in a process of its own, in a new session — the terminal's Ctrl-C
reaches this script only, which passes it on once as SIGTERM — with a longer wait before
SIGKILL (``STOP_WAIT``). SIGTERM and SIGHUP (the terminal closed) stop it the same way. Any
other end — a process that crashed and took the others down with it — passes honcho's exit
status on.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROCFILE = "Procfile.dev"
# Seconds honcho waits after the first process stopped before it SIGKILLs the rest: room for
# the worker's warm shutdown (a running task finishes; the send task's own limit is 120 s,
# but a developer pressing Ctrl-C should not wait that long).
STOP_WAIT = 20


def run_honcho() -> None:
    """honcho start, with ``STOP_WAIT`` instead of its five seconds (exits with its status)."""
    import honcho.manager
    from honcho.command import main as honcho_main

    honcho.manager.KILL_WAIT = STOP_WAIT  # read by Manager.loop on every turn
    honcho_main(["start", "-f", PROCFILE])


def main() -> int:
    honcho = subprocess.Popen(  # noqa: S603  (this script, fixed arguments)
        [sys.executable, __file__, "--honcho"],
        cwd=ROOT,
        start_new_session=True,
    )
    stopping = False

    def stop(signum, frame) -> None:
        nonlocal stopping
        stopping = True
        if honcho.poll() is None:
            honcho.send_signal(signal.SIGTERM)

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, stop)
    status = honcho.wait()
    return 0 if stopping else status


if __name__ == "__main__":
    if sys.argv[1:] == ["--honcho"]:
        run_honcho()
    sys.exit(main())
