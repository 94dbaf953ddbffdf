"""A real Celery worker killed with SIGKILL mid-batch: every mail arrives, none twice.

Issue 10, item 2. The test starts a real worker process (``celery -A itsm worker``, prefork,
two processes) against the test database and the Redis broker, and an SMTP sink (aiosmtpd)
that the worker mails through. It queues a batch of urgent mails, kills the whole worker with
SIGKILL three times while the batch is being sent (restarting it each time) and one pool
process once, then waits until every row is sent. It asserts that every recipient got their
mail, that all copies a recipient got carry one and the same ``Message-ID`` (the one derived
from the mail's key), and that any repeat comes from the instant between the sink's accept and
the commit that marks the row sent (the first copy was accepted before a kill that caught its
row still ``sending``).

What makes a restarted worker finish the batch by itself: the message a dead worker held
unacknowledged becomes visible again after the broker's visibility timeout and the restarted
worker's periodic restore step puts it back on the queue; the claim that the dead worker left
on the row ("sending") expired before that, so the redelivered task takes the row over. The
test shortens every time involved through the environment the worker's settings read
(``CELERY_VISIBILITY_TIMEOUT``, ``MAIL_SEND_TIME_LIMIT``, ``MAIL_CLAIM_TIMEOUT``,
``CELERY_RESTORE_INTERVAL``) so it runs in about a minute.

Runs only on Redis (the PostgreSQL + Redis CI pass). Its queue is its own (a unique name), so
a worker of another test cannot take its messages; it shares the ``broker`` xdist group with
the other real-broker tests.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass
from email import message_from_bytes
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

from itsm.celery import app as celery_app
from itsm.core.choices import NotificationStatus
from itsm.core.models import Notification
from itsm.core.notifications import Recipient, notification_queue

pytestmark = [
    pytest.mark.broker,
    pytest.mark.xdist_group("broker"),
    pytest.mark.skipif(
        not os.environ.get("CELERY_BROKER_URL", "").startswith("redis://"),
        reason="needs CELERY_BROKER_URL=redis://… (runs in the PostgreSQL + Redis pass)",
    ),
    pytest.mark.django_db(transaction=True),
]

BATCH = 200
# The whole worker (main process and pool) is killed when the sink holds this many mails …
KILL_AT = (40, 90, 140)
# … and one pool process alone at this count (the main process sees the loss and requeues).
CHILD_KILL_AT = 170
# Times the worker runs with (seconds): see the module docstring.
# The send limit leaves room for a slow send on a loaded CI machine (two workers, one of
# them driving Chromium): a send cut off by its limit after the sink took the mail is sent
# again, away from any kill. The claim outlives the limit; the visibility timeout the claim.
VISIBILITY_TIMEOUT = 14
SEND_TIME_LIMIT = 8
CLAIM_TIMEOUT = 10
DEADLINE = 150  # for the whole batch, from the first mail queued
ROOT = Path(__file__).resolve().parents[2]


def _sending_now() -> set[str]:
    """The recipients whose rows are claimed ("sending") right now. Right after a SIGKILL
    nothing moves them for the claim timeout, so this is their state at the kill."""
    return set(Notification.objects.filter(status=NotificationStatus.SENDING).values_list("recipient_email", flat=True))


@dataclass
class Received:
    at: float
    message_id: str
    to: tuple[str, ...]
    key: str


class Sink:
    """An SMTP server on 127.0.0.1 that records each accepted mail (slowly, ~20 ms a mail, so a
    batch lasts long enough to be interrupted)."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.received: list[Received] = []
        self._lock = threading.Lock()
        self.port = _free_port()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802  (aiosmtpd's hook name)
        await asyncio.sleep(0.02)
        message = message_from_bytes(envelope.original_content or envelope.content)
        with self._lock:
            self.received.append(
                Received(
                    at=time.monotonic(),
                    message_id=str(message.get("Message-ID", "")),
                    to=tuple(envelope.rcpt_tos),
                    key=str(message.get("X-Itsm-Notification", "")),
                )
            )
        return "250 Message accepted for delivery"

    def count(self) -> int:
        with self._lock:
            return len(self.received)

    def __enter__(self) -> Sink:
        self._controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self._controller.stop()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _database_url() -> str:
    db = connection.settings_dict
    credentials = quote(db["USER"] or "")
    if db.get("PASSWORD"):
        credentials += ":" + quote(db["PASSWORD"])
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Worker:
    """``celery -A itsm worker`` as a subprocess in its own process group, restartable."""

    def __init__(self, *, queue: str, smtp_port: int, log_dir: Path) -> None:
        self.queue = queue
        self.log_dir = log_dir
        self.starts = 0
        self.process: subprocess.Popen | None = None
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.core.broker_worker_settings",
            "DATABASE_URL": _database_url(),
            "TEST_SMTP_PORT": str(smtp_port),
            "TEST_CELERY_QUEUE": queue,
            "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
            "CELERY_RESTORE_INTERVAL": "1",
            "MAIL_SEND_TIME_LIMIT": str(SEND_TIME_LIMIT),
            "MAIL_CLAIM_TIMEOUT": str(CLAIM_TIMEOUT),
            "PYTHONUNBUFFERED": "1",
        }
        self.log = self.log_dir / "worker-0.log"

    def start(self) -> None:
        self.starts += 1
        self.log = self.log_dir / f"worker-{self.starts}.log"
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "itsm",
            "worker",
            "--pool=prefork",
            "--concurrency=2",
            "--queues",
            self.queue,
            "--hostname",
            f"kill-test-{self.starts}@%h",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ]
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(  # noqa: S603  (our own interpreter and arguments)
                command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if " ready." in self.log.read_text(errors="replace"):
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(f"the worker did not start:\n{self.log.read_text(errors='replace')[-3000:]}")

    def kill(self) -> None:
        """SIGKILL to the whole process group: the main process and its pool, no warning."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def kill_child(self) -> bool:
        """SIGKILL to one pool process only; False when none could be found."""
        assert self.process is not None
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        pids = [int(pid) for pid in children.read_text().split()] if children.exists() else []
        if not pids:
            return False
        os.kill(pids[0], signal.SIGKILL)
        return True

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


def _remove_queue(queue: str) -> None:
    """Drop the test's queue and any message of it still unacknowledged from Redis."""
    import json

    import redis

    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    try:
        for name in client.scan_iter(match=f"{queue}*"):
            client.delete(name)
        client.delete(f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")
        for tag, raw in client.hgetall("unacked").items():
            try:
                routing_key = json.loads(raw)[2]
            except (ValueError, IndexError):
                continue
            if routing_key == queue:
                client.hdel("unacked", tag)
                client.zrem("unacked_index", tag)
    finally:
        client.close()


@pytest.fixture(autouse=True)
def _quiet_sink():
    # aiosmtpd logs every SMTP command at INFO: thousands of lines for one batch.
    logger = logging.getLogger("mail.log")
    level = logger.level
    logger.setLevel(logging.WARNING)
    yield
    logger.setLevel(level)


@pytest.fixture
def producer():
    """This process sends tasks to the broker (not eagerly), to a queue of this test alone."""
    queue = f"kill-test-{uuid.uuid4().hex[:12]}"
    saved = (celery_app.conf.task_always_eager, celery_app.conf.task_default_queue)
    # The app's queue table is made once, with the default queue of that moment: make it now,
    # so the default queue stays in it (and other tests' in-process workers consume that).
    known = celery_app.amqp.queues
    celery_app.conf.task_always_eager = False
    celery_app.conf.task_default_queue = queue
    try:
        yield queue
    finally:
        celery_app.conf.task_always_eager, celery_app.conf.task_default_queue = saved
        known.pop(queue, None)
        _remove_queue(queue)


def _sent_count() -> int:
    return Notification.objects.filter(status=NotificationStatus.SENT).count()


def test_batch_survives_a_worker_killed_mid_batch(producer, tmp_path):
    started = time.monotonic()
    kills: list[tuple[float, str]] = []
    # Whose row was still "sending" the moment each kill landed: a mail the sink had accepted
    # and the dead process had not yet marked sent — the one instant a second send is allowed.
    caught_sending: set[str] = set()
    with Sink() as sink:
        worker = Worker(queue=producer, smtp_port=sink.port, log_dir=tmp_path)
        worker.start()
        try:
            keys = []
            for n in range(BATCH):
                key = f"kill-test:{producer}:{n}"
                keys.append(key)
                notification_queue(
                    key=key,
                    template="core/email/test_message",
                    recipient=Recipient(email=f"r{n}@customer.example", name=f"R {n}", language="en"),
                    context={"sent_at": None},
                    urgent=True,
                )
            pending_kills = list(KILL_AT)
            child_killed = False
            deadline = started + DEADLINE
            while time.monotonic() < deadline:
                count = sink.count()
                if pending_kills and count >= pending_kills[0]:
                    pending_kills.pop(0)
                    worker.kill()
                    kills.append((time.monotonic(), "worker"))
                    caught_sending |= _sending_now()
                    worker.start()
                elif not pending_kills and not child_killed and count >= CHILD_KILL_AT:
                    child_killed = True
                    if worker.kill_child():
                        kills.append((time.monotonic(), "pool process"))
                        caught_sending |= _sending_now()
                elif not pending_kills and _sent_count() >= BATCH:
                    break
                time.sleep(0.02)
            batch_done = time.monotonic()
            # A late redelivery (a message the dead workers held) must find its row sent and
            # do nothing: give every one of them time to come back and be consumed.
            time.sleep(2 * VISIBILITY_TIMEOUT)
        finally:
            worker.stop()
        received = list(sink.received)

    statuses = defaultdict(int)
    for status in Notification.objects.values_list("status", flat=True):
        statuses[status] += 1
    by_recipient: dict[str, list[Received]] = defaultdict(list)
    for mail in received:
        for address in mail.to:
            by_recipient[address].append(mail)
    expected = {f"r{n}@customer.example" for n in range(BATCH)}
    lost = sorted(expected - set(by_recipient))
    mixed_ids = sorted(a for a, copies in by_recipient.items() if len({m.message_id for m in copies}) > 1)
    repeats = {a: copies for a, copies in by_recipient.items() if len(copies) > 1}
    kill_times = [at for at, _what in kills]
    # Explained: the first copy was accepted before a kill that caught the row still sending.
    unexplained = sorted(
        address
        for address, copies in repeats.items()
        if not (address in caught_sending and any(copies[0].at <= at for at in kill_times))
    )
    unsent = list(Notification.objects.exclude(status=NotificationStatus.SENT).values_list("key", "status", "attempts"))
    summary = (
        f"mails={BATCH} kills={len(kills)} ({', '.join(what for _at, what in kills)}) "
        f"received={len(received)} lost={len(lost)} repeated={len(repeats)} "
        f"(different Message-IDs: {len(mixed_ids)}, not at a kill: {len(unexplained)}) "
        f"rows={dict(statuses)} batch took {batch_done - started:.1f} s, test {time.monotonic() - started:.1f} s"
        + (f"; not sent: {unsent[:5]}" if unsent else "")
    )
    print(summary)  # noqa: T201  (the figures the issue asks for; shown with -s)

    assert len([k for k in kills if k[1] == "worker"]) == len(KILL_AT), summary
    assert not lost, f"{summary}; lost: {lost[:10]}"
    assert not mixed_ids, f"{summary}; different Message-IDs to {mixed_ids[:10]}"
    assert not unexplained, f"{summary}; repeated away from any kill: {unexplained[:10]}"
    assert statuses == {NotificationStatus.SENT: BATCH}, summary
    from itsm.core.notifications import message_id_for

    for n, key in enumerate(keys):
        assert {m.message_id for m in by_recipient[f"r{n}@customer.example"]} == {message_id_for(key)}
