"""The customer's confirmation page (no login): the link from the result mail, the answer,
the thank-you page, and every way a link can be unusable — never a server error."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.cache import cache
from django.urls import reverse
from django.utils import translation

from complaints.choices import ComplaintStatus
from complaints.models import Complaint
from complaints.services import FEEDBACK_PURPOSE, complaint_transition
from itsm.core.models import AccessToken
from itsm.core.roles import Role
from itsm.core.tokens import token_revoke
from tests.complaints.factories import make_complaint, role_user
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

S = ComplaintStatus
# A Tuesday morning: mail that waits for working hours goes out at once.
WORKING = datetime(2026, 3, 10, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture(autouse=True)
def _working_hours_and_a_clean_throttle():
    cache.clear()
    with time_machine.travel(WORKING, tick=False):
        yield
    cache.clear()


@pytest.fixture
def resolve(django_capture_on_commit_callbacks):
    """``resolve(contact=...)`` → (complaint, the link's token taken from the result mail)."""

    def make(contact=None):
        # English unless the test says otherwise: the page speaks the contact's language.
        contact = contact or ContactFactory(preferred_language="en")
        complaint = make_complaint(S.ANALYSIS, contact=contact)
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            complaint = complaint_transition(
                complaint=complaint, action="resolve", actor=role_user(Role.BR_MANAGER), result="Firmware upgraded"
            )
        [message] = [m for m in mail.outbox if m.to == [contact.email]]
        match = re.search(r"/complaint-feedback/([A-Za-z0-9_-]+)/", message.body)
        assert match, message.body
        return complaint, match.group(1)

    return make


def url(token: str) -> str:
    return reverse("complaint_feedback", args=[token])


def html(response) -> str:
    return response.content.decode()


def answer(satisfaction="5", settled="yes", comment="") -> dict:
    return {"satisfaction": satisfaction, "settled": settled, "comment": comment}


def token_row(complaint) -> AccessToken:
    return AccessToken.objects.get(purpose=FEEDBACK_PURPOSE, object_id=complaint.pk)


def test_the_link_shows_the_complaint_and_asks_two_questions(client, resolve):
    complaint, token = resolve(ContactFactory(preferred_language="zh-hans"))
    response = client.get(url(token))
    assert response.status_code == 200
    page = html(response)
    assert complaint.reference in page and complaint.title in page and "Firmware upgraded" in page
    assert page.count('name="satisfaction"') == 5 and page.count('name="settled"') == 2
    assert '<meta name="robots" content="noindex, nofollow">' in page
    assert "no-cache" in response["Cache-Control"]
    assert response["Content-Language"] == "zh-hans"


def test_the_page_speaks_the_contacts_language(client, resolve, settings):
    _complaint, token = resolve(ContactFactory(preferred_language="en"))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"  # the contact's language wins
    response = client.get(url(token))
    assert response.status_code == 200 and response["Content-Language"] == "en"
    page = html(response)
    assert '<html lang="en">' in page
    assert "How satisfied are you with the result?" in page and "Is the matter settled for you?" in page


def test_a_happy_answer_keeps_it_resolved_and_lets_staff_close_it(client, resolve):
    complaint, token = resolve()
    response = client.post(url(token), answer("5", "yes", "Thanks!"))
    assert response.status_code == 200
    assert 'data-reopened="no"' in html(response)
    complaint.refresh_from_db()
    assert complaint.status == S.RESOLVED
    assert (complaint.result_satisfaction, complaint.result_settled, complaint.feedback_comment) == (5, True, "Thanks!")
    event = complaint.events.latest("pk")
    assert (event.action, event.actor, event.actor_label) == ("customer_feedback", None, "customer")
    assert token_row(complaint).used_at is not None

    client.force_login(role_user(Role.SERVICE_DESK))
    assert client.post(reverse("complaint_action", args=[complaint.pk, "close"]), {}).status_code == 302
    complaint.refresh_from_db()
    assert complaint.status == S.CLOSED


def test_an_unhappy_answer_reopens_it_and_mails_the_owner_once(client, resolve, django_capture_on_commit_callbacks):
    complaint, token = resolve()
    owner = complaint.owner
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url(token), answer("2", "no", "The link still drops"))
    assert response.status_code == 200
    page = html(response)
    assert 'data-reopened="yes"' in page and "take up your complaint" in page
    complaint.refresh_from_db()
    assert complaint.status == S.INVESTIGATING and complaint.reopen_count == 1
    reopen = complaint.events.latest("pk")
    assert (reopen.action, reopen.actor_label) == ("reopen", "customer")
    to_owner = [m for m in mail.outbox if m.to == [owner.email]]
    assert len(to_owner) == 1, [m.subject for m in to_owner]
    assert "The link still drops" in to_owner[0].body


def test_a_used_link_says_thank_you_with_410(client, resolve):
    complaint, token = resolve()
    assert client.post(url(token), answer()).status_code == 200
    for response in (client.get(url(token)), client.post(url(token), answer("1", "no"))):
        assert response.status_code == 410
        assert 'data-token-error="used"' in html(response)
    complaint.refresh_from_db()
    assert complaint.result_satisfaction == 5  # the second answer changed nothing


def test_an_expired_link_is_410(client, resolve):
    complaint, token = resolve()
    with time_machine.travel(WORKING + timedelta(days=15), tick=False):
        for response in (client.get(url(token)), client.post(url(token), answer())):
            assert response.status_code == 410
            assert 'data-token-error="expired"' in html(response)
            assert '<html lang="en">' in html(response)  # the error page speaks the contact's language too
    complaint.refresh_from_db()
    assert complaint.feedback_at is None


def test_a_revoked_link_is_410(client, resolve):
    complaint, token = resolve()
    token_revoke(target=complaint, purpose=FEEDBACK_PURPOSE)
    response = client.get(url(token))
    assert response.status_code == 410 and 'data-token-error="revoked"' in html(response)


@pytest.mark.parametrize("token", ["A" * 43, "not-a-real-token-at-all", "x", "ab$cd" * 10])
def test_a_forged_link_is_404(client, resolve, token):
    resolve()
    for response in (client.get(url(token)), client.post(url(token), answer())):
        assert response.status_code == 404
        assert 'data-token-error="invalid"' in html(response)


def test_other_methods_are_refused(client, resolve):
    _complaint, token = resolve()
    assert client.put(url(token)).status_code == 405
    assert client.delete(url(token)).status_code == 405


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (answer(satisfaction="7"), "satisfaction", "Choose a rating from 1 to 5."),
        (answer(satisfaction="0"), "satisfaction", "Choose a rating from 1 to 5."),
        (answer(satisfaction="five"), "satisfaction", "Choose a rating from 1 to 5."),
        ({"settled": "yes"}, "satisfaction", "Choose a rating from 1 to 5."),
        (answer(settled=""), "settled", "Tell us whether the matter is settled."),
        (answer(settled="maybe"), "settled", ""),
        (answer(comment="x" * 2001), "comment", ""),
    ],
)
def test_an_invalid_answer_is_400_and_keeps_the_link_usable(client, resolve, data, field, message):
    complaint, token = resolve()
    response = client.post(url(token), data)
    assert response.status_code == 400
    # The page answered in the contact's language (English); read the errors in it too.
    with translation.override("en"):
        errors = response.context["form"].errors
        assert field in errors and message in str(errors[field][0])
    assert message in html(response)
    assert token_row(complaint).used_at is None
    complaint.refresh_from_db()
    assert complaint.feedback_at is None and complaint.status == S.RESOLVED
    assert client.post(url(token), answer()).status_code == 200  # the link still works


def test_a_complaint_reopened_by_staff_withdraws_the_link(client, resolve):
    complaint, token = resolve()
    complaint_transition(
        complaint=complaint, action="reopen", actor=role_user(Role.SERVICE_DESK), note="Customer called instead"
    )
    for response in (client.get(url(token)), client.post(url(token), answer())):
        assert response.status_code == 410
        assert 'data-token-error="revoked"' in html(response)
    assert Complaint.objects.get(pk=complaint.pk).feedback_at is None


def test_a_complaint_no_longer_resolved_with_a_live_link_gets_a_clear_410(client, resolve):
    """Whatever moved it on without withdrawing the link, the page says so instead of failing."""
    complaint, token = resolve()
    Complaint.objects.filter(pk=complaint.pk).update(status=S.INVESTIGATING)
    for response in (client.get(url(token)), client.post(url(token), answer())):
        assert response.status_code == 410
        assert 'data-token-error="not_waiting"' in html(response)
    assert token_row(complaint).used_at is None
    assert Complaint.objects.get(pk=complaint.pk).feedback_at is None


def test_posts_are_throttled_per_address(client, resolve, monkeypatch):
    monkeypatch.setattr("complaints.views.public.POSTS_PER_HOUR", 3)
    complaint, token = resolve()
    for _attempt in range(3):
        assert client.post(url(token), answer(satisfaction="9")).status_code == 400
    response = client.post(url(token), answer())
    assert response.status_code == 429 and 'data-token-error="throttled"' in html(response)
    assert token_row(complaint).used_at is None
    assert client.get(url(token)).status_code == 200  # reading is not throttled
    other = client.post(url(token), answer(), REMOTE_ADDR="10.0.0.2")  # another address is not affected
    assert other.status_code == 200
