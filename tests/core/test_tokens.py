"""Personal links (itsm.core.tokens): issued hashed, checked, consumed once, revoked, extended,
and the page a customer sees when a link cannot be used."""

import hashlib
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection, connections, transaction
from django.http import HttpResponse
from django.urls import path, reverse
from django.utils import translation

from itsm.core.models import AccessToken
from itsm.core.tokens import (
    LAST_SEEN_RESOLUTION,
    TokenError,
    TokenExpired,
    TokenNotFound,
    TokenRevoked,
    TokenUsed,
    render_token_error,
    token_check,
    token_consume,
    token_extend,
    token_issue,
    token_revoke,
    token_url,
    token_view,
)
from tests.factories import ContactFactory, OrganisationFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
CLOSES = NOW + timedelta(days=14)
PURPOSE = "survey_invitation"


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def contact():
    return ContactFactory()


@pytest.fixture
def raw(contact):
    return token_issue(purpose=PURPOSE, target=contact, expires_at=CLOSES)


def _row(raw: str) -> AccessToken:
    return AccessToken.objects.get(token_hash=hashlib.sha256(raw.encode()).hexdigest())


# --- issue, check, consume ------------------------------------------------------------------


def test_issue_check_consume(contact):
    raw = token_issue(purpose=PURPOSE, target=contact, expires_at=CLOSES)

    checked = token_check(raw, purpose=PURPOSE)
    assert checked.target == contact
    assert (checked.purpose, checked.expires_at, checked.used_at, checked.last_seen_at) == (PURPOSE, CLOSES, None, NOW)

    with transaction.atomic():
        consumed = token_consume(raw, purpose=PURPOSE)
    assert consumed.pk == checked.pk and consumed.used_at == NOW
    assert _row(raw).used_at == NOW


def test_the_raw_token_is_returned_once_and_only_its_sha256_is_stored(contact):
    raw = token_issue(purpose=PURPOSE, target=contact, expires_at=CLOSES)

    assert len(raw) == 43  # secrets.token_urlsafe(32)
    row = AccessToken.objects.values().get()
    assert row["token_hash"] == hashlib.sha256(raw.encode()).hexdigest()
    assert all(raw not in str(value) for value in row.values())


def test_each_issue_makes_a_different_token(contact):
    raws = {token_issue(purpose=PURPOSE, target=contact, expires_at=CLOSES) for _ in range(5)}
    assert len(raws) == 5 and AccessToken.objects.count() == 5


def test_issue_refuses_an_unsaved_target_and_a_past_or_naive_expiry(contact):
    with pytest.raises(ValueError, match="saved"):
        token_issue(purpose=PURPOSE, target=ContactFactory.build(), expires_at=CLOSES)
    with pytest.raises(ValueError, match="future"):
        token_issue(purpose=PURPOSE, target=contact, expires_at=NOW)
    with pytest.raises(ValueError, match="aware"):
        token_issue(purpose=PURPOSE, target=contact, expires_at=CLOSES.replace(tzinfo=None))
    assert not AccessToken.objects.exists()


def test_check_reads_one_row_and_records_the_opening_at_most_once_a_minute(raw, django_assert_num_queries):
    with django_assert_num_queries(2):  # the lookup, the conditional UPDATE of last_seen_at
        token_check(raw, purpose=PURPOSE)
    with time_machine.travel(NOW + LAST_SEEN_RESOLUTION - timedelta(seconds=1), tick=False):
        assert token_check(raw, purpose=PURPOSE).last_seen_at == NOW
    later = NOW + LAST_SEEN_RESOLUTION + timedelta(seconds=1)
    with time_machine.travel(later, tick=False):
        assert token_check(raw, purpose=PURPOSE).last_seen_at == later
    assert _row(raw).last_seen_at == later


# --- links that cannot be used --------------------------------------------------------------


def test_a_token_issued_for_another_purpose_is_not_found(raw):
    with pytest.raises(TokenNotFound) as caught:
        token_check(raw, purpose="complaint_feedback")
    assert caught.value.status == 404 and caught.value.token is None
    with pytest.raises(TokenNotFound), transaction.atomic():
        token_consume(raw, purpose="complaint_feedback")
    assert _row(raw).used_at is None and _row(raw).last_seen_at is None


@pytest.mark.parametrize(
    "forged",
    [
        "",
        "x",
        "a" * 129,
        "a" * 100_000,
        "../../etc/passwd",
        "abc def ghi jkl mno pqr stu vwx",
        "ä" * 43,
        "\x00" * 43,
        "A" * 42 + "=",
        "%2F" * 15,
        None,
        12345,
    ],
    ids=repr,
)
def test_malformed_tokens_are_not_found_without_a_query(raw, forged, django_assert_num_queries):
    with django_assert_num_queries(0), pytest.raises(TokenNotFound):
        token_check(forged, purpose=PURPOSE)
    with transaction.atomic(), django_assert_num_queries(0), pytest.raises(TokenNotFound):
        token_consume(forged, purpose=PURPOSE)


def test_a_well_formed_but_unknown_token_is_not_found(raw):
    forged = ("B" if raw[0] == "A" else "A") + raw[1:]
    for candidate in (forged, raw[:-1], raw + "A", raw.upper() if raw != raw.upper() else raw.lower()):
        with pytest.raises(TokenNotFound):
            token_check(candidate, purpose=PURPOSE)


def test_an_expired_token_is_gone(raw):
    with time_machine.travel(CLOSES - timedelta(microseconds=1), tick=False):
        token_check(raw, purpose=PURPOSE)
    with time_machine.travel(CLOSES, tick=False):
        with pytest.raises(TokenExpired) as caught:
            token_check(raw, purpose=PURPOSE)
        assert caught.value.status == 410 and caught.value.token.pk == _row(raw).pk
        with pytest.raises(TokenExpired), transaction.atomic():
            token_consume(raw, purpose=PURPOSE)
    assert _row(raw).used_at is None
    a_day_later = CLOSES + timedelta(days=1)
    with time_machine.travel(a_day_later, tick=False), pytest.raises(TokenExpired):
        token_check(raw, purpose=PURPOSE)
    assert _row(raw).last_seen_at == a_day_later  # opening an expired link is still recorded


def test_a_used_token_is_gone_and_cannot_be_consumed_again(raw):
    with transaction.atomic():
        token_consume(raw, purpose=PURPOSE)
    with pytest.raises(TokenUsed) as caught:
        token_check(raw, purpose=PURPOSE)
    assert caught.value.status == 410
    with pytest.raises(TokenUsed), transaction.atomic():
        token_consume(raw, purpose=PURPOSE)
    assert _row(raw).used_at == NOW


def test_a_revoked_token_is_gone(raw, contact):
    assert token_revoke(target=contact, purpose=PURPOSE) == 1
    with pytest.raises(TokenRevoked) as caught:
        token_check(raw, purpose=PURPOSE)
    assert caught.value.status == 410
    with pytest.raises(TokenRevoked), transaction.atomic():
        token_consume(raw, purpose=PURPOSE)
    assert _row(raw).used_at is None


def test_revoked_beats_expired_and_used_beats_expired(contact):
    revoked = token_issue(purpose=PURPOSE, target=contact, expires_at=CLOSES)
    token_revoke(target=contact, purpose=PURPOSE)
    used = token_issue(purpose=PURPOSE, target=contact, expires_at=CLOSES)
    with transaction.atomic():
        token_consume(used, purpose=PURPOSE)
    with time_machine.travel(CLOSES + timedelta(days=1), tick=False):
        with pytest.raises(TokenRevoked):
            token_check(revoked, purpose=PURPOSE)
        with pytest.raises(TokenUsed):  # "thank you, your answer was recorded", not "expired"
            token_check(used, purpose=PURPOSE)


def test_a_consume_rolled_back_with_the_callers_transaction_leaves_the_token_usable(raw):
    class AnswerRefused(Exception):
        pass

    with pytest.raises(AnswerRefused), transaction.atomic():
        token_consume(raw, purpose=PURPOSE)
        raise AnswerRefused  # the caller's own write failed after the claim
    assert _row(raw).used_at is None
    token_check(raw, purpose=PURPOSE)
    with transaction.atomic():
        assert token_consume(raw, purpose=PURPOSE).used_at == NOW


def test_a_claim_lost_between_reading_and_updating_reports_the_real_reason(raw, monkeypatch):
    # Revoked by staff after token_consume read the row, before its UPDATE ran.
    from itsm.core import tokens

    real_ensure = tokens._ensure_usable
    calls = []

    def ensure_then_revoke(token, now):
        real_ensure(token, now)
        if not calls:
            calls.append(token.pk)
            AccessToken.objects.filter(pk=token.pk).update(revoked_at=now)

    monkeypatch.setattr(tokens, "_ensure_usable", ensure_then_revoke)
    with pytest.raises(TokenRevoked), transaction.atomic():
        token_consume(raw, purpose=PURPOSE)
    assert _row(raw).used_at is None


@pytest.mark.django_db(transaction=True)
def test_consume_refuses_to_run_outside_a_transaction(raw):
    with pytest.raises(transaction.TransactionManagementError):
        token_consume(raw, purpose=PURPOSE)
    assert _row(raw).used_at is None


# --- a target's links: independent, revoked, extended ---------------------------------------


def test_two_tokens_for_the_same_target_are_independent(contact):
    first = token_issue(purpose=PURPOSE, target=contact, expires_at=CLOSES)
    second = token_issue(purpose=PURPOSE, target=contact, expires_at=CLOSES + timedelta(days=7))
    with transaction.atomic():
        token_consume(first, purpose=PURPOSE)
    assert token_check(second, purpose=PURPOSE).used_at is None
    with time_machine.travel(CLOSES + timedelta(days=1), tick=False):
        token_check(second, purpose=PURPOSE)
        with pytest.raises(TokenUsed):
            token_check(first, purpose=PURPOSE)


def test_revoke_withdraws_the_open_links_of_that_target_and_purpose_only(contact):
    superseded = token_issue(purpose=PURPOSE, target=contact, expires_at=CLOSES)
    answered = token_issue(purpose=PURPOSE, target=contact, expires_at=CLOSES)
    with transaction.atomic():
        token_consume(answered, purpose=PURPOSE)
    other_purpose = token_issue(purpose="complaint_feedback", target=contact, expires_at=CLOSES)
    other_contact = token_issue(purpose=PURPOSE, target=ContactFactory(), expires_at=CLOSES)
    same_pk_other_model = OrganisationFactory(pk=contact.pk + 1000)
    other_model = token_issue(purpose=PURPOSE, target=same_pk_other_model, expires_at=CLOSES)

    assert token_revoke(target=contact, purpose=PURPOSE) == 1
    assert _row(superseded).revoked_at == NOW
    with pytest.raises(TokenUsed):  # an answered link keeps saying "thank you"
        token_check(answered, purpose=PURPOSE)
    token_check(other_purpose, purpose="complaint_feedback")
    token_check(other_contact, purpose=PURPOSE)
    token_check(other_model, purpose=PURPOSE)

    newer = token_issue(purpose=PURPOSE, target=contact, expires_at=CLOSES)
    token_check(newer, purpose=PURPOSE)  # a new link after the revocation works
    assert token_revoke(target=contact, purpose=PURPOSE) == 1  # revoking again touches only the new one
    with pytest.raises(TokenRevoked):
        token_check(newer, purpose=PURPOSE)


def test_revoke_over_a_queryset_is_one_update(django_assert_num_queries):
    contacts = ContactFactory.create_batch(3)
    raws = [token_issue(purpose=PURPOSE, target=c, expires_at=CLOSES) for c in contacts]
    spared = token_issue(purpose=PURPOSE, target=ContactFactory(), expires_at=CLOSES)
    queryset = type(contacts[0]).objects.filter(pk__in=[c.pk for c in contacts])

    with django_assert_num_queries(1):
        assert token_revoke(target=queryset, purpose=PURPOSE) == 3
    for raw in raws:
        with pytest.raises(TokenRevoked):
            token_check(raw, purpose=PURPOSE)
    token_check(spared, purpose=PURPOSE)


def test_revoke_and_extend_refuse_an_unsaved_target():
    with pytest.raises(ValueError):
        token_revoke(target=ContactFactory.build(), purpose=PURPOSE)
    with pytest.raises(ValueError):
        token_extend(target=ContactFactory.build(), purpose=PURPOSE, expires_at=CLOSES)


def test_extend_moves_the_expiry_of_open_links_even_expired_ones(contact):
    expiring = token_issue(purpose=PURPOSE, target=contact, expires_at=NOW + timedelta(days=1))
    answered = token_issue(purpose=PURPOSE, target=contact, expires_at=NOW + timedelta(days=1))
    with transaction.atomic():
        token_consume(answered, purpose=PURPOSE)
    withdrawn_target = ContactFactory()
    withdrawn = token_issue(purpose=PURPOSE, target=withdrawn_target, expires_at=NOW + timedelta(days=1))
    token_revoke(target=withdrawn_target, purpose=PURPOSE)
    other_purpose = token_issue(purpose="complaint_feedback", target=contact, expires_at=NOW + timedelta(days=1))

    later = NOW + timedelta(days=3)
    with time_machine.travel(NOW + timedelta(days=2), tick=False):  # the campaign closed, then was reopened
        with pytest.raises(TokenExpired):
            token_check(expiring, purpose=PURPOSE)
        assert token_extend(target=contact, purpose=PURPOSE, expires_at=later) == 1
        assert token_extend(target=withdrawn_target, purpose=PURPOSE, expires_at=later) == 0
        assert token_check(expiring, purpose=PURPOSE).expires_at == later
        with pytest.raises(TokenUsed):
            token_check(answered, purpose=PURPOSE)
        with pytest.raises(TokenRevoked):
            token_check(withdrawn, purpose=PURPOSE)
        with pytest.raises(TokenExpired):
            token_check(other_purpose, purpose="complaint_feedback")
        with pytest.raises(ValueError, match="future"):
            token_extend(target=contact, purpose=PURPOSE, expires_at=NOW)
    assert _row(answered).expires_at == NOW + timedelta(days=1)


# --- concurrency (PostgreSQL: SQLite serialises writers anyway) -----------------------------


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks under concurrency: PostgreSQL only")
@pytest.mark.parametrize("first_rolls_back", [False, True], ids=["commit", "rollback"])
def test_two_simultaneous_submissions_of_one_link_claim_it_once(transactional_db, contact, first_rolls_back):
    raw = token_issue(purpose=PURPOSE, target=contact, expires_at=CLOSES)
    start = threading.Barrier(2)
    claims: list[str] = []
    lock = threading.Lock()
    outcomes: dict[str, str] = {}

    class WriteFailed(Exception):
        pass

    def submit(name: str) -> None:
        try:
            start.wait(timeout=10)
            with transaction.atomic():
                token_consume(raw, purpose=PURPOSE)
                with lock:
                    claims.append(name)
                    first = len(claims) == 1
                time.sleep(0.3)  # hold the claim while the other submission tries
                if first_rolls_back and first:
                    raise WriteFailed  # the answer could not be recorded
            outcomes[name] = "claimed"
        except TokenUsed:
            outcomes[name] = "used"
        except WriteFailed:
            outcomes[name] = "rolled back"
        except Exception as exc:
            outcomes[name] = repr(exc)  # reported by the assertion below
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    if first_rolls_back:
        # The waiting submission claims the link only once the first one has rolled back.
        assert sorted(outcomes.values()) == ["claimed", "rolled back"], outcomes
        assert len(claims) == 2
    else:
        assert sorted(outcomes.values()) == ["claimed", "used"], outcomes
        assert len(claims) == 1
    assert _row(raw).used_at == NOW


# --- the page a customer sees ---------------------------------------------------------------

ERROR_PAGES = [
    (TokenNotFound, 404, "Link not recognised", "链接无法识别"),
    (TokenExpired, 410, "This link has expired", "链接已过期"),
    (TokenUsed, 410, "Thank you, your answer was recorded", "感谢您，您的回答已记录"),
    (TokenRevoked, 410, "This link has been withdrawn", "链接已撤回"),
]


@pytest.mark.parametrize(
    ("error_class", "status", "english", "chinese"), ERROR_PAGES, ids=[row[0].__name__ for row in ERROR_PAGES]
)
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_error_page_says_why_in_the_active_language(rf, error_class, status, english, chinese, language):
    with translation.override(language):
        response = render_token_error(rf.get("/s/whatever/"), error_class())
    html = response.content.decode()
    assert response.status_code == status
    assert (chinese if language == "zh-hans" else english) in html
    assert (english if language == "zh-hans" else chinese) not in html
    assert f'<html lang="{language}">' in html
    assert 'name="viewport"' in html and "bootstrap-5.3.9/bootstrap.min.css" in html
    assert "no-store" in response["Cache-Control"]


def test_the_error_page_reveals_nothing_about_the_target(rf, contact, raw):
    token_revoke(target=contact, purpose=PURPOSE)
    with pytest.raises(TokenRevoked) as caught:
        token_check(raw, purpose=PURPOSE)
    html = render_token_error(rf.get("/"), caught.value).content.decode()
    for secret in (contact.name, contact.email, contact.organisation.name, raw, _row(raw).token_hash, PURPOSE):
        assert secret not in html
    assert "<nav" not in html and "logout" not in html


# A public view as complaints and surveys will write one, on a URL conf of this module.
@token_view(purpose=PURPOSE, language=lambda access: getattr(access.target, "preferred_language", None))
def answer_view(request, access, raw):
    if request.method == "POST":
        with transaction.atomic():
            token_consume(raw, purpose=PURPOSE)
        return HttpResponse(f"recorded {translation.get_language()}")
    return HttpResponse(f"form for {access.target.pk} in {translation.get_language()}")


@token_view(purpose=PURPOSE)
def double_submit_view(request, access, raw):
    with transaction.atomic():
        token_consume(raw, purpose=PURPOSE)
        token_consume(raw, purpose=PURPOSE)  # raises TokenUsed: the whole submission rolls back
    return HttpResponse("unreachable")


urlpatterns = [
    path("answer/<str:token>/", answer_view, name="token_test_answer"),
    path("double/<str:token>/", double_submit_view, name="token_test_double_submit"),
]


@pytest.mark.urls(__name__)
def test_token_url_is_absolute_on_the_site_url(raw, settings):
    settings.SITE_URL = "https://itsm.example.com/"
    assert token_url(raw, "token_test_answer") == f"https://itsm.example.com/answer/{raw}/"


@pytest.mark.urls(__name__)
def test_token_view_serves_a_good_link_once_then_says_thank_you(client, contact, raw):
    contact.preferred_language = "en"
    contact.save()
    url = reverse("token_test_answer", args=[raw])

    response = client.get(url)
    assert response.status_code == 200 and response.content.decode() == f"form for {contact.pk} in en"
    assert "no-store" in response["Cache-Control"] and response["Content-Language"] == "en"
    assert client.post(url).content == b"recorded en"

    for response in (client.get(url), client.post(url)):  # reload, resubmit
        assert response.status_code == 410
        assert "Thank you, your answer was recorded" in response.content.decode()  # the contact's language
        assert '<html lang="en">' in response.content.decode() and response["Content-Language"] == "en"
    assert _row(raw).used_at == NOW


@pytest.mark.urls(__name__)
def test_a_token_error_raised_inside_the_view_becomes_the_page(client, raw):
    response = client.post(reverse("token_test_double_submit", args=[raw]))
    assert response.status_code == 410 and "感谢您，您的回答已记录" in response.content.decode()
    assert _row(raw).used_at is None  # the view's transaction rolled back, the claim with it


@pytest.mark.urls(__name__)
@pytest.mark.parametrize("token", ["nonsense", "A" * 43, "a" * 500, "%00%00", "🙂" * 10])
def test_token_view_answers_404_for_a_bad_link_in_the_default_language(client, raw, token):
    response = client.get(f"/answer/{token}/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "链接无法识别" in html and '<html lang="zh-hans">' in html


@pytest.mark.urls(__name__)
def test_token_view_answers_410_for_an_expired_link(client, raw):
    with time_machine.travel(CLOSES, tick=False):
        response = client.get(reverse("token_test_answer", args=[raw]))
    assert response.status_code == 410 and "链接已过期" in response.content.decode()


def test_every_token_error_has_a_status_and_a_message():
    for error_class in (TokenNotFound, TokenExpired, TokenUsed, TokenRevoked):
        error = error_class()
        assert isinstance(error, TokenError) and error.status in (404, 410)
        assert str(error.title) and str(error.message)


# --- the admin ------------------------------------------------------------------------------


def test_the_admin_lists_and_shows_links_read_only_without_any_hash(client, make_user, raw):
    admin = make_user(None, is_staff=True, is_superuser=True)
    client.force_login(admin)
    token = _row(raw)

    listing = client.get(reverse("admin:core_accesstoken_changelist"))
    detail = client.get(reverse("admin:core_accesstoken_change", args=[token.pk]))
    assert listing.status_code == 200 and detail.status_code == 200
    for response in (listing, detail):
        html = response.content.decode()
        assert token.token_hash not in html and raw not in html
        assert "token_hash" not in html
    assert b'name="_save"' not in detail.content
    assert client.get(reverse("admin:core_accesstoken_add")).status_code == 403
    assert client.get(reverse("admin:core_accesstoken_delete", args=[token.pk])).status_code == 403
