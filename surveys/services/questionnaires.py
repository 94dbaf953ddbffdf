"""Every write of questionnaires (调查问卷): versions, sections, questions and their choices.

Each service is keyword-only, checks the actor's model permission (``PermissionDenied``),
runs in one transaction under ``set_actor`` (audit trail) and validates before it writes
(``ValidationError`` with per-field messages; nothing is written). A version in use by a
campaign (``locked_at`` set, by ``questionnaire_lock``) is frozen: every edit re-reads the
questionnaire under ``select_for_update()`` and refuses; ``questionnaire_new_version`` makes
the editable copy.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from auditlog.context import set_actor
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max, ProtectedError
from django.utils import timezone
from django.utils.translation import gettext as _

from itsm.core.models import User
from itsm.core.permissions import can, require

from ..answers import QuestionnaireContent, questionnaire_content
from ..choices import CHOICE_KINDS, QuestionKind
from ..models import Question, Questionnaire, QuestionnaireSection, QuestionOption

MAX_OPTIONS = 30
MIN_OPTIONS = 2
QUESTIONNAIRE_FIELDS = ("title", "introduction", "thanks")
SECTION_FIELDS = ("title", "description")
QUESTION_FIELDS = (
    "kind",
    "text",
    "help_text",
    "required",
    "comment_below",
    "service",
    "sla_target",
    "service_ref",
    "target_ref",
    "options",
)


def locked_message() -> str:
    return _("This version is in use by a campaign and cannot be changed; make a new version to edit it.")


def _lock_for_edit(questionnaire_id: int) -> Questionnaire:
    """Re-read the questionnaire under a row lock; refuse when it is in use."""
    questionnaire = Questionnaire.objects.select_for_update().get(pk=questionnaire_id)
    if questionnaire.locked_at is not None:
        raise ValidationError(locked_message(), code="locked")
    return questionnaire


def _check_fields(fields: dict[str, Any], allowed: Sequence[str]) -> None:
    unknown = set(fields) - set(allowed)
    if unknown:
        raise TypeError(f"unexpected fields: {', '.join(sorted(unknown))}")


def _delete(row: Any) -> None:
    """Delete ``row``; answers recorded for it (only possible on a version once in use) refuse."""
    try:
        row.delete()
    except ProtectedError as exc:
        raise ValidationError(
            _("Answers were recorded for this; it cannot be deleted. Make a new version to change it."),
            code="answered",
        ) from exc


def _renumber(rows: list[Any]) -> None:
    """Give ``rows`` (in their order) positions 0, 1, 2…; save only the changed ones."""
    for position, row in enumerate(rows):
        if row.position != position:
            row.position = position
            row.save(update_fields=["position"])


# --- questionnaires ----------------------------------------------------------------------------


def questionnaire_create(*, title: str, introduction: str = "", thanks: str = "", actor: User) -> Questionnaire:
    """Start a new questionnaire: version 1 of a new family, not in use, without sections.

    Raises ``PermissionDenied`` without ``add_questionnaire``, ``ValidationError`` for a
    blank or too long title.
    """
    require(can(actor, "add", Questionnaire))
    questionnaire = Questionnaire(title=title, introduction=introduction, thanks=thanks, created_by=actor)
    questionnaire.full_clean()
    with transaction.atomic(), set_actor(actor):
        questionnaire.save()
    return questionnaire


def questionnaire_update(*, questionnaire: Questionnaire, actor: User, **fields: Any) -> Questionnaire:
    """Change the title, introduction or thank-you text of a version not in use.

    Raises ``PermissionDenied`` without ``change_questionnaire``, ``ValidationError`` when the
    version is in use or a field is invalid, ``TypeError`` for another field.
    """
    require(can(actor, "change", Questionnaire))
    _check_fields(fields, QUESTIONNAIRE_FIELDS)
    with transaction.atomic(), set_actor(actor):
        locked = _lock_for_edit(questionnaire.pk)
        for name, value in fields.items():
            setattr(locked, name, value)
        locked.full_clean()
        locked.save()
    return locked


def questionnaire_lock(*, questionnaire: Questionnaire) -> Questionnaire:
    """Mark the version as in use from now on (``locked_at``); a second call changes nothing.

    Called by the campaign service when a campaign using this version leaves draft. Updates
    ``questionnaire.locked_at`` in place and returns the questionnaire.
    """
    with transaction.atomic():
        locked = Questionnaire.objects.select_for_update().get(pk=questionnaire.pk)
        if locked.locked_at is None:
            locked.locked_at = timezone.now()
            locked.save(update_fields=["locked_at", "updated_at"])
    questionnaire.locked_at = locked.locked_at
    return locked


def questionnaire_new_version(*, questionnaire: Questionnaire, actor: User) -> Questionnaire:
    """Copy ``questionnaire`` (sections, questions, choices, positions and tags) into a new,
    editable version of its family numbered one above the family's highest version.

    Refuses (``ValidationError``) when the version is not in use yet (edit it instead) or the
    family already has a newer version not in use (edit that one); ``PermissionDenied``
    without ``add_questionnaire``. The copied version is left unchanged.
    """
    require(can(actor, "add", Questionnaire))
    try:
        with transaction.atomic(), set_actor(actor):
            family = list(Questionnaire.objects.select_for_update().filter(family=questionnaire.family))
            source = next(row for row in family if row.pk == questionnaire.pk)
            if source.locked_at is None:
                raise ValidationError(_("This version is not in use yet: edit it directly."), code="not_locked")
            drafts = sorted(
                (row for row in family if row.version > source.version and row.locked_at is None),
                key=lambda row: row.version,
            )
            if drafts:
                raise ValidationError(
                    _("Version %(version)s of this questionnaire is a draft not yet in use: edit that one instead.")
                    % {"version": drafts[-1].version},
                    code="draft_exists",
                )
            copy = Questionnaire(
                family=source.family,
                version=max(row.version for row in family) + 1,
                title=source.title,
                introduction=source.introduction,
                thanks=source.thanks,
                created_by=actor,
            )
            copy.full_clean(validate_unique=False, validate_constraints=False)
            copy.save()
            _copy_content(source, copy)
    except IntegrityError as exc:  # a concurrent new version took the number
        raise ValidationError(
            _("Another new version of this questionnaire was made at the same time; reload the page."),
            code="concurrent",
        ) from exc
    return copy


def _copy_content(source: Questionnaire, copy: Questionnaire) -> None:
    # Bulk inserts: the copy's own audit entry records who made it and from which version.
    sections = list(QuestionnaireSection.objects.filter(questionnaire=source).order_by("position", "pk"))
    new_sections = QuestionnaireSection.objects.bulk_create(
        [
            QuestionnaireSection(questionnaire=copy, position=s.position, title=s.title, description=s.description)
            for s in sections
        ]
    )
    section_map = {old.pk: new.pk for old, new in zip(sections, new_sections, strict=True)}
    questions = list(
        Question.objects.filter(questionnaire=source, section_id__in=section_map).order_by("position", "pk")
    )
    new_questions = Question.objects.bulk_create(
        [
            Question(
                questionnaire=copy,
                section_id=section_map[q.section_id],
                position=q.position,
                kind=q.kind,
                text=q.text,
                help_text=q.help_text,
                required=q.required,
                comment_below=q.comment_below,
                service_id=q.service_id,
                sla_target_id=q.sla_target_id,
                service_ref=q.service_ref,
                target_ref=q.target_ref,
            )
            for q in questions
        ]
    )
    question_map = {old.pk: new.pk for old, new in zip(questions, new_questions, strict=True)}
    QuestionOption.objects.bulk_create(
        [
            QuestionOption(question_id=question_map[o.question_id], position=o.position, label=o.label)
            for o in QuestionOption.objects.filter(question_id__in=question_map).order_by("position", "pk")
        ]
    )


def content_problems(content: QuestionnaireContent) -> list[str]:
    """What keeps a questionnaire from being used, read from its loaded content."""
    problems = []
    questions = content.questions
    if not questions:
        problems.append(_("The questionnaire has no questions yet."))
    for question in questions:
        if question.kind in CHOICE_KINDS and len(question.options) < MIN_OPTIONS:
            problems.append(_("The question “%(text)s” needs at least two choices.") % {"text": question.text})
    return problems


def questionnaire_check_ready(
    questionnaire: Questionnaire, *, content: QuestionnaireContent | None = None
) -> list[str]:
    """The problems that keep ``questionnaire`` from being used by a campaign (empty: ready):
    no questions at all, or a choice question with fewer than two choices. An empty section
    is no problem (the customer does not see it). ``content``: already loaded content."""
    return content_problems(content if content is not None else questionnaire_content(questionnaire))


# --- sections ----------------------------------------------------------------------------------


def section_create(
    *, questionnaire: Questionnaire, title: str, description: str = "", actor: User
) -> QuestionnaireSection:
    """Add a section at the end of the questionnaire. Raises ``ValidationError`` (in use,
    invalid title), ``PermissionDenied``."""
    require(can(actor, "add", QuestionnaireSection))
    with transaction.atomic(), set_actor(actor):
        locked = _lock_for_edit(questionnaire.pk)
        last = locked.sections.aggregate(last=Max("position"))["last"]
        section = QuestionnaireSection(
            questionnaire=locked,
            title=title,
            description=description,
            position=0 if last is None else last + 1,
        )
        section.full_clean()
        section.save()
    return section


def section_update(*, section: QuestionnaireSection, actor: User, **fields: Any) -> QuestionnaireSection:
    """Change a section's title or description. Raises ``ValidationError``, ``PermissionDenied``,
    ``TypeError`` for another field."""
    require(can(actor, "change", QuestionnaireSection))
    _check_fields(fields, SECTION_FIELDS)
    with transaction.atomic(), set_actor(actor):
        _lock_for_edit(section.questionnaire_id)
        for name, value in fields.items():
            setattr(section, name, value)
        section.full_clean()
        section.save()
    return section


def section_delete(*, section: QuestionnaireSection, actor: User) -> None:
    """Delete a section with its questions and their choices; the others close up."""
    require(can(actor, "delete", QuestionnaireSection))
    with transaction.atomic(), set_actor(actor):
        locked = _lock_for_edit(section.questionnaire_id)
        _delete(section)
        _renumber(list(locked.sections.order_by("position", "pk")))


def section_move(*, section: QuestionnaireSection, direction: str, actor: User) -> bool:
    """Swap the section with the one before (``"up"``) or after (``"down"``) it.

    Returns False when it is already first / last (nothing changes). Raises
    ``ValidationError`` (in use, unknown direction), ``PermissionDenied``.
    """
    require(can(actor, "change", QuestionnaireSection))
    with transaction.atomic(), set_actor(actor):
        locked = _lock_for_edit(section.questionnaire_id)
        return _swap(list(locked.sections.order_by("position", "pk")), section.pk, direction)


def _swap(rows: list[Any], pk: int, direction: str) -> bool:
    if direction not in ("up", "down"):
        raise ValidationError(_("Move a question or section up or down."), code="direction")
    index = next(i for i, row in enumerate(rows) if row.pk == pk)
    other = index - 1 if direction == "up" else index + 1
    if not 0 <= other < len(rows):
        return False
    rows[index], rows[other] = rows[other], rows[index]
    _renumber(rows)
    return True


# --- questions ---------------------------------------------------------------------------------


def _clean_options(kind: str, labels: Iterable[str] | None) -> list[str]:
    """The choices' labels, stripped, blanks dropped; per-field errors under ``options``."""
    cleaned = [label.strip() for label in (labels or ()) if label and label.strip()]
    if kind not in CHOICE_KINDS:
        if cleaned:
            raise ValidationError(
                {"options": _("Only single and multiple choice questions have choices; clear this box.")}
            )
        return []
    errors = []
    if len(cleaned) < MIN_OPTIONS:
        errors.append(_("Give at least two choices, one per line."))
    if len(cleaned) > MAX_OPTIONS:
        errors.append(_("Give at most %(max)s choices.") % {"max": MAX_OPTIONS})
    seen: set[str] = set()
    duplicates = []
    for label in cleaned:
        key = label.casefold()
        if key in seen and label not in duplicates:
            duplicates.append(label)
        seen.add(key)
    if duplicates:
        errors.append(_("Each choice must be different: %(labels)s.") % {"labels": ", ".join(duplicates)})
    longest = QuestionOption._meta.get_field("label").max_length or 200
    if any(len(label) > longest for label in cleaned):
        errors.append(_("A choice may have at most %(max)s characters.") % {"max": longest})
    if errors:
        raise ValidationError({"options": errors})
    return cleaned


def _validate_question(question: Question, options: Iterable[str] | None) -> list[str]:
    """Check the question and its choices together (every field's errors at once); return
    the cleaned labels of the choices."""
    errors: dict[str, list[str]] = {}
    labels: list[str] = []
    if question.kind not in QuestionKind.values:
        errors["kind"] = [_("Choose a question type.")]
    else:
        try:
            labels = _clean_options(question.kind, options)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if question.comment_below is not None and question.kind != QuestionKind.RATING:
        errors["comment_below"] = [_("Only rating questions can require a comment.")]
    errors.update(_link_problems(question))
    try:
        # The model's constraint says what the comment_below check above says, less kindly.
        question.full_clean(exclude=list(errors), validate_constraints=not errors)
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            errors.setdefault(name, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    return labels


def _link_problems(question: Question) -> dict[str, list[str]]:
    """The service must not be retired; an SLA target given with a service must be one of an
    agreement covering that service."""
    from sla.choices import ServiceStatus

    problems: dict[str, list[str]] = {}
    service = question.service if question.service_id else None
    if service is not None and service.status == ServiceStatus.RETIRED:
        problems["service"] = [_("This service is retired.")]
    target = question.sla_target if question.sla_target_id else None
    if target is not None and service is not None and not target.agreement.services.filter(pk=service.pk).exists():
        problems["sla_target"] = [_("This target's agreement does not cover the chosen service.")]
    return problems


def _set_options(question: Question, labels: list[str]) -> None:
    """Replace the question's choices by ``labels`` in that order, keeping the rows (and ids)
    of labels that did not change."""
    existing = list(question.options.order_by("position", "pk"))
    unused: dict[str, list[QuestionOption]] = {}
    for option in existing:
        unused.setdefault(option.label, []).append(option)
    kept: list[QuestionOption] = []
    for position, label in enumerate(labels):
        matches = unused.get(label)
        if matches:
            option = matches.pop(0)
            if option.position != position:
                option.position = position
                option.save(update_fields=["position"])
        else:
            option = QuestionOption(question=question, position=position, label=label)
            option.full_clean()
            option.save()
        kept.append(option)
    kept_ids = {option.pk for option in kept}
    for option in existing:
        if option.pk not in kept_ids:
            _delete(option)


def question_create(
    *,
    section: QuestionnaireSection,
    kind: str,
    text: str,
    help_text: str = "",
    required: bool = True,
    comment_below: int | None = None,
    service: Any = None,
    sla_target: Any = None,
    service_ref: str = "",
    target_ref: str = "",
    options: Sequence[str] = (),
    actor: User,
) -> Question:
    """Add a question at the end of ``section``, with its choices (single / multiple choice:
    two to thirty different labels). ``comment_below`` only for ratings.

    Raises ``ValidationError`` (in use, invalid fields), ``PermissionDenied`` without
    ``add_question``.
    """
    require(can(actor, "add", Question))
    with transaction.atomic(), set_actor(actor):
        _lock_for_edit(section.questionnaire_id)
        last = Question.objects.filter(section=section).aggregate(last=Max("position"))["last"]
        question = Question(
            questionnaire_id=section.questionnaire_id,
            section=section,
            position=0 if last is None else last + 1,
            kind=kind,
            text=text,
            help_text=help_text,
            required=required,
            comment_below=comment_below,
            service=service,
            sla_target=sla_target,
            service_ref=service_ref,
            target_ref=target_ref,
        )
        labels = _validate_question(question, options)
        question.save()
        _set_options(question, labels)
    return question


def question_update(*, question: Question, actor: User, **fields: Any) -> Question:
    """Change a question; ``options`` (a list of labels, when given) replaces its choices,
    keeping the rows of unchanged labels. Changing the type to one without choices needs
    ``options=[]``.

    Raises ``ValidationError`` (in use, invalid fields), ``PermissionDenied``, ``TypeError``
    for another field.
    """
    require(can(actor, "change", Question))
    _check_fields(fields, QUESTION_FIELDS)
    options = fields.pop("options", None)
    with transaction.atomic(), set_actor(actor):
        _lock_for_edit(question.questionnaire_id)
        for name, value in fields.items():
            setattr(question, name, value)
        if options is None:
            options = list(question.options.order_by("position", "pk").values_list("label", flat=True))
        labels = _validate_question(question, options)
        question.save()
        _set_options(question, labels)
    return question


def question_delete(*, question: Question, actor: User) -> None:
    """Delete a question and its choices; the others of its section close up."""
    require(can(actor, "delete", Question))
    with transaction.atomic(), set_actor(actor):
        _lock_for_edit(question.questionnaire_id)
        section_id = question.section_id
        _delete(question)
        _renumber(list(Question.objects.filter(section_id=section_id).order_by("position", "pk")))


def question_move(*, question: Question, direction: str, actor: User) -> bool:
    """Swap the question with the one before (``"up"``) or after (``"down"``) it in its section.

    Returns False at the section's edge (nothing changes). Raises ``ValidationError`` (in
    use, unknown direction), ``PermissionDenied``.
    """
    require(can(actor, "change", Question))
    with transaction.atomic(), set_actor(actor):
        _lock_for_edit(question.questionnaire_id)
        rows = list(Question.objects.filter(section_id=question.section_id).order_by("position", "pk"))
        return _swap(rows, question.pk, direction)
