"""Personal links leave the stored mail bodies (issue 10): ``secret_context`` replaces
``redact_after_send``.

Until now a mail with a personal link (survey, unsubscribe, result-confirmation, call-back:
a raw token that works for whoever holds it) stored the link in ``body_text``/``body_html``
until it was sent, then had its body blanked (``redact_after_send``). From now on the body
holds a placeholder and the link is stored encrypted in ``secret_context``
(``itsm.core.mail_links``). Rows already recorded the old way — those marked
``redact_after_send`` — are converted here; the links are found as what they are, an absolute
URL with a path segment of 32 or more token characters (issued tokens have 43):

- pending (held or queued) and ``sending`` rows: each link is moved into ``secret_context``,
  encrypted with the configured key, and replaced by its placeholder, so the mail still goes
  out with its working links and its stored body no longer holds them;
- failed rows: each link is replaced by the placeholder and not kept anywhere. A failed mail
  is never sent again (the server refused the address, or sending gave up), so its link has no
  use left, while it would still open the survey or confirmation for whoever reads the row;
- sent rows: their bodies were blanked after sending; a link still found is replaced too.

Going back removes ``secret_context``: the links of mail still queued are lost then.
"""

import re

from django.db import migrations, models

# An absolute URL, without the punctuation that may end the sentence it stands in.
_URL = re.compile(r"https?://[^\s<>\"']+?(?=[.,;:!?)]*(?:[\s<>\"']|$))")
_TOKEN_SEGMENT = re.compile(r"[A-Za-z0-9_-]{32,128}")
_UNSENT = ("pending", "sending")


def _is_token_link(url: str) -> bool:
    path = url.split("://", 1)[1].partition("/")[2]
    return any(_TOKEN_SEGMENT.fullmatch(segment) for segment in path.split("/"))


def move_links_out_of_bodies(apps, schema_editor):
    from itsm.core import mail_links

    Notification = apps.get_model("core", "Notification")
    for row in Notification.objects.filter(redact_after_send=True).iterator(chunk_size=500):
        names: dict[str, str] = {}

        def to_placeholder(match: re.Match, names=names) -> str:
            url = match.group(0)
            if not _is_token_link(url):
                return url
            if url not in names:
                names[url] = "link" if not names else f"link_{len(names) + 1}"
            return mail_links.placeholder(names[url])

        body_text = _URL.sub(to_placeholder, row.body_text)
        body_html = _URL.sub(to_placeholder, row.body_html)
        if not names:
            continue
        row.body_text, row.body_html = body_text, body_html
        row.secret_context = (
            mail_links.seal({name: url for url, name in names.items()}) if row.status in _UNSENT else ""
        )
        row.save(update_fields=["body_text", "body_html", "secret_context"])


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0008_api_token_proxy"),
    ]

    operations = [
        migrations.AddField(
            model_name="notification",
            name="secret_context",
            field=models.TextField(blank=True, default="", editable=False, verbose_name="personal links (encrypted)"),
        ),
        migrations.RunPython(move_links_out_of_bodies, migrations.RunPython.noop),
        migrations.RemoveField(
            model_name="notification",
            name="redact_after_send",
        ),
    ]
