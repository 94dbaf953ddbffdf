"""No live token in a log (issue 10, item 3): Django's warnings for a token page and gunicorn's
access log, as the project ships its configuration, show the link's first four characters only."""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from itsm.core.logmask import mask
from itsm.core.tokens import token_issue
from tests.factories import ContactFactory

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcde"  # 43 characters, as token_urlsafe(32)


def test_mask_cuts_token_shaped_segments_and_leaves_routes_alone():
    assert mask(f"Gone: /s/{TOKEN}/") == "Gone: /s/AbCd…/"
    assert (
        mask(f'"GET /complaint-feedback/{TOKEN}/?x=1 HTTP/1.1" 410')
        == '"GET /complaint-feedback/AbCd…/?x=1 HTTP/1.1" 410'
    )
    assert mask(f"/s/{TOKEN}") == "/s/AbCd…"
    for text in (
        "/complaints/12/edit/",
        "/static/css/itsm.4f2b9c1d3e5a6b7c8d9e0f1a2b3c4d5e.css",
        "/surveys/questionnaires/customer-satisfaction-2026/",
        "no path at all",
    ):
        assert mask(text) == text


@pytest.mark.django_db
def test_django_warnings_for_a_token_page_carry_no_token(client, caplog):
    contact = ContactFactory()
    raw = token_issue(purpose="survey", target=contact, expires_at=timezone.now() + timedelta(days=1))
    with caplog.at_level(logging.INFO):
        client.get(f"/s/{TOKEN}/")  # unknown: 404, logged as "Not Found"
        client.get(f"/complaint-feedback/{raw}/")  # issued for another purpose: 404 too
    assert caplog.records, "the 404s were logged"
    assert TOKEN not in caplog.text and raw not in caplog.text
    assert "/s/AbCd…/" in caplog.text


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_gunicorn_with_the_shipped_configuration_masks_tokens_in_its_access_log(tmp_path):
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "itsm.settings.test",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "1",
    }
    env.pop("CELERY_BROKER_URL", None)
    gunicorn = Path(sys.executable).with_name("gunicorn")
    process = subprocess.Popen(  # noqa: S603  (our own gunicorn, fixed arguments)
        [str(gunicorn), "itsm.wsgi", "--config", "gunicorn.conf.py"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail("gunicorn did not start")
                time.sleep(0.2)
        for path in (f"/s/{TOKEN}/", f"/complaint-feedback/{TOKEN}/", f"/s/{TOKEN}/unsubscribe/"):
            # An empty database: the page fails; the access line is what counts.
            with contextlib.suppress(urllib.error.HTTPError):
                urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10)  # noqa: S310
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=30)
    access = [line for line in output.splitlines() if '"GET ' in line]
    assert len(access) == 3, output
    assert TOKEN not in output
    assert all("AbCd…" in line for line in access), access
