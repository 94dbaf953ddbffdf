"""The continual-improvement queues on the home page (issue 13): my improvement actions (overdue
first), suggestions to accept, plans awaiting my approval, effectiveness reviews due — who
sees which, what each holds, and the home page's constant query count."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from improvement.choices import ItemStatus, PlanStatus
from improvement.services.plans import action_add, action_cancel, action_complete
from itsm.core.choices import OrganisationKind
from itsm.core.home import PANELS
from itsm.core.roles import Role
from itsm.core.testing import assert_constant_queries
from tests.complaints.factories import role_user
from tests.factories import OrganisationFactory
from tests.improvement.factories import make_item, make_plan

pytestmark = pytest.mark.django_db

KEYS = ("improvement.my_actions", "improvement.suggestions", "improvement.plans_to_approve", "improvement.reviews_due")
WHO = {
    Role.SERVICE_DESK: {"improvement.my_actions", "improvement.suggestions"},
    Role.MANAGEMENT_REP: {"improvement.my_actions", "improvement.suggestions"},
    Role.SATISFACTION_OWNER: {"improvement.my_actions", "improvement.suggestions", "improvement.reviews_due"},
    Role.SERVICE_LEVEL_MANAGER: {"improvement.my_actions", "improvement.suggestions", "improvement.reviews_due"},
    Role.QUALITY_MANAGER: {"improvement.my_actions", "improvement.suggestions", "improvement.reviews_due"},
    Role.PROCESS_OWNER: {"improvement.my_actions", "improvement.suggestions", "improvement.reviews_due"},
    Role.BR_MANAGER: set(KEYS),
    Role.DEPARTMENT_HEAD: set(KEYS),
    Role.AUDITOR: set(),
}


def build(key: str, user):
    return PANELS[key].build(user)


def labels(content) -> list[str]:
    return [item.label for item in content.items]


def home(client, user) -> str:
    client.force_login(user)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    return response.content.decode()


def panel(page: str, key: str) -> str:
    match = re.search(rf'data-panel="{re.escape(key)}".*?</section>', page, re.S)
    assert match, key
    return match.group(0)


@pytest.mark.parametrize("role", list(WHO))
def test_each_role_gets_the_improvement_queues_it_works(client, role):
    page = home(client, role_user(role))
    shown = {key for key in re.findall(r'data-panel="([^"]+)"', page) if key.startswith("improvement.")}
    assert shown == WHO[role]


def test_my_actions_are_my_open_ones_overdue_first(make_user):
    brm = role_user(Role.BR_MANAGER)
    slm = make_user(Role.SERVICE_LEVEL_MANAGER)
    worked = make_plan(PlanStatus.IN_PROGRESS, owner=slm)
    today = timezone.localdate()

    def add(title: str, days: int, owner=slm):
        return action_add(
            plan=make_plan(PlanStatus.DRAFT), actor=brm, title=title, owner=owner, due_on=today + timedelta(days)
        )

    soon, later, late = add("Soon", 3), add("Later", 9), add("Late", 1)
    done = worked.actions.get()
    action_complete(action=done, actor=done.owner, evidence_note="done")
    cancelled = add("Dropped", 2)
    action_cancel(action=cancelled, actor=slm, reason="merged")
    add("Not mine", 2, owner=brm)
    with time_machine.travel(timezone.now() + timedelta(days=2), tick=False):
        content = build("improvement.my_actions", slm)
    assert content.count == 3 and labels(content) == ["Late", "Soon", "Later"]
    first = content.items[0]
    assert first.overdue and first.due == late.due_on and first.url == late.get_absolute_url()
    assert not content.items[1].overdue and soon.plan.reference in content.items[1].detail
    assert content.note  # "1 of them overdue"
    assert content.url.startswith(reverse("improvement_tracking")) and f"owner={slm.pk}" in content.url
    assert later.title in labels(content)


def test_a_rejected_plans_open_action_is_not_on_my_list(make_user):
    slm = make_user(Role.SERVICE_LEVEL_MANAGER)
    rejected = make_plan(PlanStatus.REJECTED, owner=slm)
    assert rejected.actions.get().status == "open"
    assert build("improvement.my_actions", slm).count == 0


def test_suggestions_are_mine_and_for_the_br_manager_the_unowned(make_user):
    brm = role_user(Role.BR_MANAGER)
    slm = make_user(Role.SERVICE_LEVEL_MANAGER)
    theirs = make_item(ItemStatus.SUGGESTED, title="For the SLM", owner=slm, key="k1")
    unowned = make_item(ItemStatus.SUGGESTED, title="No one's", owner=None, key="k2")
    mine = make_item(ItemStatus.SUGGESTED, title="For the BRM", owner=brm, key="k3")
    make_item(ItemStatus.OPEN, title="Accepted already", owner=slm)
    assert labels(build("improvement.suggestions", slm)) == [f"{theirs.reference} {theirs.title}"]
    content = build("improvement.suggestions", brm)
    assert content.count == 2 and set(labels(content)) == {
        f"{unowned.reference} {unowned.title}",
        f"{mine.reference} {mine.title}",
    }
    assert content.url == f"{reverse('improvement_item_list')}?status=suggested"
    assert content.note and not build("improvement.suggestions", role_user(Role.QUALITY_MANAGER)).note


def test_plans_awaiting_approval_go_to_the_approver_role():
    team = OrganisationFactory(kind=OrganisationKind.INTERNAL_TEAM)
    ordinary = make_plan(PlanStatus.SUBMITTED, title="Ordinary plan")
    own = make_plan(PlanStatus.SUBMITTED, title="The team's own plan", team=team)
    make_plan(PlanStatus.DRAFT, title="Still a draft")
    make_plan(PlanStatus.APPROVED, title="Approved already")
    brm, head = role_user(Role.BR_MANAGER), role_user(Role.DEPARTMENT_HEAD)
    assert labels(build("improvement.plans_to_approve", brm)) == [f"{ordinary.reference} {ordinary.title}"]
    content = build("improvement.plans_to_approve", head)
    assert labels(content) == [f"{own.reference} {own.title}"] and team.name in content.items[0].detail
    assert content.url == f"{reverse('improvement_plan_list')}?status=submitted"


def test_a_plan_back_for_reapproval_says_so():
    plan = make_plan(PlanStatus.IN_PROGRESS)
    brm = role_user(Role.BR_MANAGER)
    action_add(plan=plan, actor=brm, title="One more", owner=brm, due_on=timezone.localdate() + timedelta(5))
    item = build("improvement.plans_to_approve", brm).items[0]
    assert item.label.startswith(plan.reference) and item.badge


def test_effectiveness_reviews_due_are_my_plans_under_review(make_user):
    slm = make_user(Role.SERVICE_LEVEL_MANAGER)
    review = make_plan(PlanStatus.EFFECTIVENESS_REVIEW, owner=slm, title="Under review")
    make_plan(PlanStatus.IN_PROGRESS, owner=slm, title="Still working")
    make_plan(PlanStatus.EFFECTIVENESS_REVIEW, title="Someone else's")
    content = build("improvement.reviews_due", slm)
    assert labels(content) == [f"{review.reference} Under review"]
    assert content.items[0].due == review.review_due_on and not content.items[0].overdue
    with time_machine.travel(timezone.now() + timedelta(days=31), tick=False):
        assert build("improvement.reviews_due", slm).items[0].overdue


def test_the_panels_show_on_the_home_page_with_their_links(client):
    brm = role_user(Role.BR_MANAGER)
    plan = make_plan(PlanStatus.SUBMITTED, title="Waiting for you")
    page = home(client, brm)
    queue = panel(page, "improvement.plans_to_approve")
    assert "Waiting for you" in queue and f'href="{plan.get_absolute_url()}"' in queue
    mine = panel(page, "improvement.my_actions")
    assert "Action 1" in mine  # the factory's action is the BR manager's
    assert client.get(build("improvement.my_actions", brm).url).status_code == 200


@pytest.mark.parametrize("role", [Role.BR_MANAGER, Role.DEPARTMENT_HEAD, Role.SERVICE_LEVEL_MANAGER])
def test_the_home_page_runs_a_constant_number_of_queries(client, role):
    user = role_user(role)
    team = OrganisationFactory(kind=OrganisationKind.INTERNAL_TEAM)
    client.force_login(user)

    def make_rows(n: int) -> None:
        for index in range(n):
            make_plan(PlanStatus.SUBMITTED, owner=user, title=f"Submitted {index}")
            make_plan(PlanStatus.SUBMITTED, owner=user, title=f"Team {index}", team=team)
            make_plan(PlanStatus.EFFECTIVENESS_REVIEW, owner=user, title=f"Review {index}")
            make_item(ItemStatus.SUGGESTED, title=f"Suggested {index}", owner=user, key=f"home:{role}:{index}")

    assert_constant_queries(client, reverse("home"), make_rows, few=1, many=7)
