"""The workflow kit on its own (``itsm.core.workflow``, ``itsm.core.api.workflow``,
``itsm.core.views.workflow``): a new machine is a table, its effects and its templates.

The machine here is made up for the test over the catalogue's ``Service`` (and its event model):
a table of two moves, one effect, one condition, one after-move hook, and then a viewset and a
page view that declare nothing but which machine and which serializers / form they use. Every
refusal the kit gives, the one transaction, the API's ``transitions`` / ``events`` with their
schema, the page's 302 / 400 / 403 / 404 and the timeline rows are checked against it.
"""

from __future__ import annotations

import pytest
from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.urls import include, path
from django.utils import translation
from drf_spectacular.generators import SchemaGenerator
from rest_framework import mixins, serializers, viewsets
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from itsm.core.api.permissions import RolePermission
from itsm.core.api.workflow import (
    MoveSerializer,
    TransitionInputSerializer,
    WorkflowEventSerializer,
    WorkflowViewSetMixin,
    action_field,
)
from itsm.core.forms import TransitionForm
from itsm.core.roles import Role
from itsm.core.views.workflow import action_forms, timeline, transition_view
from itsm.core.workflow import Machine, Transition, TransitionRefused, allowed, perform, refused_message
from sla.choices import ServiceStatus as S
from sla.models import Service, ServiceEvent
from tests.sla.factories import ServiceFactory

pytestmark = pytest.mark.django_db

OWNER = Role.PROCESS_OWNER.value

# --- the machine: a table, its effects, a condition, an after-move hook -------------------------

TABLE = {
    t.action: t
    for t in [
        Transition(
            "approve",
            "Approve",
            frozenset({S.PROPOSED}),
            S.ACCEPTED,
            frozenset({OWNER}),
            requires=("note", "description"),
            accepts=("description",),
        ),
        Transition("withdraw", "Withdraw", frozenset({S.ACCEPTED}), S.RETIRED, frozenset({OWNER}), system=True),
    ]
}
AFTER: list[tuple[str, int]] = []


def _approve(move):
    if move.record.description == "refuse":
        raise ValidationError({"description": "The effect refuses this one."})
    return {"length": len(move.record.description)}


def _check(move):
    return {"category": "Not in this category."} if move.record.category == "Closed" else {}


TOY = Machine(
    model=Service,
    table=TABLE,
    refused="“%(action)s” is not possible while the toy is %(status)s.",
    moved="%(action)s: the toy is now “%(status)s”.",
    event_model=ServiceEvent,
    effects={"approve": _approve},
    check=_check,
    after=lambda move, event: AFTER.append((move.action, event.pk)),
    offered=lambda transition, service, user: not service.name.startswith("hidden"),
    event_labels={"created": "Proposed"},
)


@pytest.fixture(autouse=True)
def _after_reset():
    AFTER.clear()


@pytest.fixture
def owner(make_user):
    return make_user(OWNER)


def _service(**fields):
    return ServiceFactory(**fields)


# --- perform: every refusal, and nothing written ------------------------------------------------


def test_an_unknown_action_is_refused_naming_it(owner):
    service = _service()
    with pytest.raises(TransitionRefused) as refused:
        perform(TOY, service, "promote", actor=owner)
    assert "promote" in str(refused.value.message_dict["action"])
    assert not ServiceEvent.objects.exists()


def test_an_input_the_action_does_not_take_is_refused_by_name(owner):
    with pytest.raises(ValidationError) as refused:
        perform(TOY, _service(), "approve", actor=owner, note="ok", inputs={"name": "x", "description": "d"})
    assert set(refused.value.message_dict) == {"name"}


def test_a_move_the_table_has_no_arrow_for_is_refused_with_the_machines_message(owner):
    service = _service()
    perform(TOY, service, "approve", actor=owner, note="ok", inputs={"description": "d"})
    with pytest.raises(TransitionRefused) as refused:
        perform(TOY, service, "approve", actor=owner, note="again", inputs={"description": "d"})
    service.refresh_from_db()
    assert refused.value.message_dict["action"] == [refused_message(TOY, TABLE["approve"], service)]
    assert "while the toy is" in refused.value.message_dict["action"][0]


def test_a_role_the_table_does_not_name_may_not_and_the_system_needs_leave(make_user):
    service = _service()
    with pytest.raises(PermissionDenied, match="Approve"):
        perform(TOY, service, "approve", actor=make_user(Role.AUDITOR.value), note="x", inputs={"description": "d"})
    with pytest.raises(PermissionDenied):
        perform(TOY, service, "approve", actor=None, note="x", inputs={"description": "d"})
    service.refresh_from_db()
    assert service.status == S.PROPOSED and not ServiceEvent.objects.exists()


def test_missing_inputs_and_the_machines_condition_are_refused_together(owner):
    service = _service(category="Closed")
    with pytest.raises(ValidationError) as refused:
        perform(TOY, service, "approve", actor=owner)
    assert set(refused.value.message_dict) == {"note", "description", "category"}
    service.refresh_from_db()
    assert service.status == S.PROPOSED and service.description == ""


def test_a_move_sets_the_status_applies_the_inputs_writes_the_event_and_runs_the_after_hook(owner):
    service = _service()
    moved = perform(TOY, service, "approve", actor=owner, note="  agreed  ", inputs={"description": " four "})
    moved.refresh_from_db()
    assert (moved.status, moved.description) == (S.ACCEPTED, "four")
    event = ServiceEvent.objects.get(service=service)
    assert (event.action, event.from_status, event.to_status, event.actor, event.note) == (
        "approve",
        S.PROPOSED,
        S.ACCEPTED,
        owner,
        "agreed",
    )
    assert event.data == {"length": 4} and event.actor_label == ""
    assert [("approve", event.pk)] == AFTER


def test_the_system_moves_where_the_table_lets_it_and_is_named_so(owner):
    service = _service()
    perform(TOY, service, "approve", actor=owner, note="ok", inputs={"description": "d"})
    perform(TOY, service, "withdraw", actor=None)
    event = ServiceEvent.objects.get(action="withdraw")
    assert event.actor is None and event.actor_label == "system"


def test_an_effect_that_refuses_leaves_nothing_written(owner):
    service = _service()
    with pytest.raises(ValidationError):
        perform(TOY, service, "approve", actor=owner, note="ok", inputs={"description": "refuse"})
    service.refresh_from_db()
    assert (service.status, service.description) == (S.PROPOSED, "")
    assert not ServiceEvent.objects.exists() and AFTER == []


def test_allowed_lists_what_the_role_may_do_now_and_the_machine_offers(owner, make_user):
    assert [t.action for t in allowed(TOY, _service(), owner)] == ["approve"]
    assert allowed(TOY, _service(name="hidden one"), owner) == []
    assert allowed(TOY, _service(), make_user(Role.AUDITOR.value)) == []


def test_the_timeline_names_each_row_and_says_who(owner):
    service = _service()
    perform(TOY, service, "approve", actor=owner, note="ok", inputs={"description": "d"})
    perform(TOY, service, "withdraw", actor=None, actor_label="customer")
    with translation.override("en"):
        rows = timeline(TOY, TOY.events(service), details=lambda event: [f"#{event.pk}"])
        rows[1]["who"] = str(rows[1]["who"])
    assert [(row["label"], row["who"], row["moved"]) for row in rows] == [
        ("Approve", str(owner), True),
        ("Withdraw", "customer", True),
    ]
    assert rows[0]["from"] == str(S.PROPOSED.label) and rows[0]["details"] == [f"#{rows[0]['event'].pk}"]
    assert TOY.action_label("created") == "Proposed" and TOY.action_label("odd") == "odd"


# --- the API: a viewset that only declares its machine and serializers ---------------------------


ToyActionField = action_field(TABLE, component_name="ToyAction", description="A toy action.")


class ToyMoveSerializer(MoveSerializer):
    action = ToyActionField()


class ToyTransitionSerializer(TransitionInputSerializer):
    table = TABLE
    action = ToyActionField()
    description = serializers.CharField(required=False, allow_blank=True)


class ToyEventSerializer(WorkflowEventSerializer):
    machine = TOY

    class Meta(WorkflowEventSerializer.Meta):
        model = ServiceEvent


class ToyOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Service
        fields = ["id", "status", "description"]


class ToyViewSet(WorkflowViewSetMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = Service.objects.all()
    serializer_class = ToyOutputSerializer
    permission_classes = [RolePermission]
    workflow_machine = TOY
    move_serializer_class = ToyMoveSerializer
    transition_serializer_class = ToyTransitionSerializer
    event_serializer_class = ToyEventSerializer
    output_serializer_class = ToyOutputSerializer

    def _output(self, record):
        return Response(ToyOutputSerializer(record).data)


class ToyForm(TransitionForm):
    input_fields = {"description": lambda: forms.CharField(label="Description", max_length=200)}


def _render_failed(request, record, *, failed, status):
    return HttpResponse(" | ".join(f"{k}: {v}" for k, v in failed.errors.items()), status=status)


toy_action = transition_view(
    TOY, form_class=ToyForm, record=lambda request, pk: Service.objects.get(pk=pk), render_failed=_render_failed
)

router = SimpleRouter()
router.register("toys", ToyViewSet, basename="toy")
urlpatterns = [
    path("api/v1/", include(router.urls)),
    path("toys/<int:pk>/actions/<str:action>/", toy_action, name="toy_action"),
    path("", include("itsm.urls")),
]


@pytest.fixture
def toy_owner(make_user):
    """A process owner who may also change services (the model permission the API asks)."""
    from django.contrib.auth.models import Permission

    user = make_user(OWNER)
    user.user_permissions.add(
        Permission.objects.get(codename="change_service"), Permission.objects.get(codename="view_service")
    )
    return user


@pytest.mark.urls(__name__)
def test_the_api_lists_the_moves_performs_one_and_gives_the_history(api_client, toy_owner):
    service = _service()
    api_client.force_authenticate(toy_owner)
    url = f"/api/v1/toys/{service.pk}/"
    moves = api_client.get(url + "transitions/").json()
    assert moves == [
        {
            "action": "approve",
            "label": "Approve",
            "description": "",
            "target": S.ACCEPTED,
            "requires": ["note", "description"],
            "accepts": ["note", "description"],
        }
    ]
    missing = api_client.post(url + "transitions/", {"action": "approve"}, format="json")
    assert missing.status_code == 400 and set(missing.json()["errors"]) == {"note", "description"}
    wrong = api_client.post(url + "transitions/", {"action": "withdraw", "description": "x"}, format="json")
    assert wrong.status_code == 400 and "description" in wrong.json()["errors"]
    done = api_client.post(url + "transitions/", {"action": "approve", "note": "ok", "description": "d"}, format="json")
    assert done.status_code == 200 and done.json()["status"] == S.ACCEPTED
    history = api_client.get(url + "events/").json()
    assert [row["action_display"] for row in history["results"]] == ["Approve"]


@pytest.mark.urls(__name__)
def test_the_api_keeps_the_kits_403_message(api_client, make_user):
    from django.contrib.auth.models import Permission

    auditor = make_user(Role.AUDITOR.value)
    auditor.user_permissions.add(Permission.objects.get(codename="change_service"))
    api_client.force_authenticate(auditor)
    service = _service()
    refused = api_client.post(
        f"/api/v1/toys/{service.pk}/transitions/", {"action": "approve", "note": "x", "description": "d"}, format="json"
    )
    assert refused.status_code == 403 and "Approve" in refused.json()["message"]


def test_the_mixin_writes_the_schema_of_both_operations_once():
    schema = SchemaGenerator(patterns=[path("api/v1/", include(router.urls))]).get_schema(request=None, public=True)
    transitions = schema["paths"]["/api/v1/toys/{id}/transitions/"]
    assert {"get", "post"} <= set(transitions)
    assert transitions["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "ToyTransitionRequest"
    )
    assert {"400", "403", "404"} <= set(transitions["post"]["responses"])
    events = schema["paths"]["/api/v1/toys/{id}/events/"]["get"]
    assert events["summary"] == "The history, oldest first" and "404" in events["responses"]
    assert schema["components"]["schemas"]["ToyAction"]["enum"] == ["approve", "withdraw"]


# --- the page: forms and the one view -------------------------------------------------------------


def test_action_forms_give_one_form_per_move_and_keep_a_refused_one_apart(owner):
    service = _service()
    forms, refused = action_forms(TOY, service, owner, ToyForm)
    assert [form.transition.action for form in forms] == ["approve"] and refused is None
    assert set(forms[0].fields) == {"description", "note"} and forms[0].fields["note"].required
    stale = ToyForm(transition=TABLE["withdraw"], record=service)
    forms, refused = action_forms(TOY, service, owner, ToyForm, failed=stale)
    assert refused is stale and stale not in forms


@pytest.mark.urls(__name__)
def test_the_page_view_moves_redirects_and_refuses_clearly(client, owner, make_user):
    from django.contrib.auth.models import Permission

    owner.user_permissions.add(
        Permission.objects.get(codename="change_service"), Permission.objects.get(codename="view_service")
    )
    service = _service()
    client.force_login(owner)
    url = f"/toys/{service.pk}/actions/approve/"
    assert client.post(f"/toys/{service.pk}/actions/promote/").status_code == 404
    missing = client.post(url, {"approve-description": "d"})
    assert missing.status_code == 400 and "note" in missing.content.decode()
    done = client.post(url, {"approve-description": "d", "approve-note": "ok"})
    assert done.status_code == 302 and done["Location"] == service.get_absolute_url()
    again = client.post(url, {"approve-description": "d", "approve-note": "ok"})
    assert again.status_code == 400 and "while the toy is" in again.content.decode()
    auditor = make_user(Role.AUDITOR.value)
    auditor.user_permissions.add(
        Permission.objects.get(codename="change_service"), Permission.objects.get(codename="view_service")
    )
    client.force_login(auditor)
    assert client.post(f"/toys/{_service().pk}/actions/approve/", {"approve-note": "x"}).status_code == 403
