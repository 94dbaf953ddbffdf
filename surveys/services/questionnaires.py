"""Every write of questionnaires (调查问卷): versions, sections, questions and their choices.

Each service is keyword-only, checks the actor's model permission (``PermissionDenied``),
runs in one transaction under ``set_actor`` (audit trail) and validates before it writes
(``ValidationError`` with per-field messages; nothing is written). A version in use by a
campaign (``locked_at`` set, by ``questionnaire_lock``) is frozen: every edit re-reads the
questionnaire under ``select_for_update()`` and refuses; ``questionnaire_new_version`` makes
the editable copy.

Every text is bilingual (``surveys.bilingual``): ``title`` (Chinese) and ``title_en``
(English), and so on; one of the two is enough, a missing translation is a warning
(``content_warnings``), never a reason to refuse. Choices are given as pairs
``(Chinese, English)`` (a plain string is a Chinese label).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max, ProtectedError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from itsm.core.audit import set_actor
from itsm.core.models import User
from itsm.core.permissions import can, require

from ..answers import QuestionnaireContent, questionnaire_content
from ..bilingual import EN, ZH_HANS, columns, missing_counts
from ..choices import CHOICE_KINDS, QuestionKind
from ..models import Question, Questionnaire, QuestionnaireSection, QuestionOption

MAX_OPTIONS = 30
MIN_OPTIONS = 2
QUESTIONNAIRE_FIELDS = tuple(columns(Questionnaire.TEXTS))
SECTION_FIELDS = tuple(columns(QuestionnaireSection.TEXTS))
QUESTION_FIELDS = (
    "kind",
    *columns(Question.TEXTS),
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


def questionnaire_create(*, actor: User, **texts: str) -> Questionnaire:
    """Start a new questionnaire: version 1 of a new family, not in use, without sections.
    ``texts``: ``title`` / ``title_en``, ``introduction`` / ``introduction_en``, ``thanks`` /
    ``thanks_en`` (a title in at least one language).

    Raises ``PermissionDenied`` without ``add_questionnaire``, ``ValidationError`` for a
    title blank in both languages or too long, ``TypeError`` for another field.
    """
    require(can(actor, "add", Questionnaire))
    _check_fields(texts, QUESTIONNAIRE_FIELDS)
    questionnaire = Questionnaire(**texts, created_by=actor)
    questionnaire.full_clean()
    with transaction.atomic(), set_actor(actor):
        questionnaire.save()
    return questionnaire


def questionnaire_update(*, questionnaire: Questionnaire, actor: User, **fields: Any) -> Questionnaire:
    """Change the title, introduction or thank-you text (either language) of a version not in use.

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
    """Copy ``questionnaire`` (sections, questions, choices, positions and tags, every text in
    both languages) into a new, editable version of its family numbered one above the
    family's highest version.

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
                created_by=actor,
                **_texts(source),
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


def _texts(row: Any) -> dict[str, str]:
    """Both languages of every text of ``row`` (a questionnaire, section, question or choice)."""
    return {name: getattr(row, name) for name in columns(type(row).TEXTS)}


def _copy_content(source: Questionnaire, copy: Questionnaire) -> None:
    # Bulk inserts: the copy's own audit entry records who made it and from which version.
    sections = list(QuestionnaireSection.objects.filter(questionnaire=source).order_by("position", "pk"))
    new_sections = QuestionnaireSection.objects.bulk_create(
        [QuestionnaireSection(questionnaire=copy, position=s.position, **_texts(s)) for s in sections]
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
                required=q.required,
                comment_below=q.comment_below,
                service_id=q.service_id,
                sla_target_id=q.sla_target_id,
                service_ref=q.service_ref,
                target_ref=q.target_ref,
                **_texts(q),
            )
            for q in questions
        ]
    )
    question_map = {old.pk: new.pk for old, new in zip(questions, new_questions, strict=True)}
    QuestionOption.objects.bulk_create(
        [
            QuestionOption(question_id=question_map[o.question_id], position=o.position, **_texts(o))
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


def content_warnings(content: QuestionnaireContent) -> list[str]:
    """What is worth fixing but keeps nothing from being used: texts written in one language
    only (the contact of the other language reads them untranslated)."""
    missing = missing_counts(content.texts)
    warnings = []
    if missing[EN]:
        warnings.append(
            ngettext(
                "%(count)s text has no English version yet: English-speaking contacts read it in Chinese.",
                "%(count)s texts have no English version yet: English-speaking contacts read them in Chinese.",
                missing[EN],
            )
            % {"count": missing[EN]}
        )
    if missing[ZH_HANS]:
        warnings.append(
            ngettext(
                "%(count)s text has no Chinese version yet: Chinese-speaking contacts read it in English.",
                "%(count)s texts have no Chinese version yet: Chinese-speaking contacts read them in English.",
                missing[ZH_HANS],
            )
            % {"count": missing[ZH_HANS]}
        )
    return warnings


def questionnaire_check_ready(
    questionnaire: Questionnaire, *, content: QuestionnaireContent | None = None
) -> list[str]:
    """The problems that keep ``questionnaire`` from being used by a campaign (empty: ready):
    no questions at all, or a choice question with fewer than two choices. An empty section
    is no problem (the customer does not see it), nor a missing translation (a warning:
    ``content_warnings``). ``content``: already loaded content."""
    return content_problems(content if content is not None else questionnaire_content(questionnaire))


# --- sections ----------------------------------------------------------------------------------


def section_create(*, questionnaire: Questionnaire, actor: User, **texts: str) -> QuestionnaireSection:
    """Add a section at the end of the questionnaire; ``texts``: ``title`` / ``title_en``,
    ``description`` / ``description_en``. Raises ``ValidationError`` (in use, no title in
    either language), ``PermissionDenied``, ``TypeError`` for another field."""
    require(can(actor, "add", QuestionnaireSection))
    _check_fields(texts, SECTION_FIELDS)
    with transaction.atomic(), set_actor(actor):
        locked = _lock_for_edit(questionnaire.pk)
        last = locked.sections.aggregate(last=Max("position"))["last"]
        section = QuestionnaireSection(questionnaire=locked, position=0 if last is None else last + 1, **texts)
        section.full_clean()
        section.save()
    return section


def section_update(*, section: QuestionnaireSection, actor: User, **fields: Any) -> QuestionnaireSection:
    """Change a section's title or description (either language). Raises ``ValidationError``,
    ``PermissionDenied``, ``TypeError`` for another field."""
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


OptionLabels = tuple[str, str]  # a choice's label in Chinese and in English


def option_pairs(options: Iterable[Any] | None) -> list[OptionLabels]:
    """Choices as ``(Chinese, English)`` pairs, stripped; an item may be a pair, a plain string
    (a Chinese label) or a mapping with ``label`` / ``label_en``. Choices blank in both
    languages are dropped."""
    pairs = []
    for item in options or ():
        if isinstance(item, str):
            zh_hans, en = item, ""
        elif isinstance(item, Mapping):
            zh_hans, en = item.get("label", ""), item.get("label_en", "")
        else:
            zh_hans, en = item
        zh_hans, en = (zh_hans or "").strip(), (en or "").strip()
        if zh_hans or en:
            pairs.append((zh_hans, en))
    return pairs


def _duplicates(labels: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    duplicates = []
    for label in labels:
        key = label.casefold()
        if key in seen and label not in duplicates:
            duplicates.append(label)
        seen.add(key)
    return duplicates


def _clean_options(kind: str, options: Iterable[Any] | None) -> list[OptionLabels]:
    """The choices as cleaned pairs (``option_pairs``); per-field errors under ``options``."""
    cleaned = option_pairs(options)
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
    duplicates = [
        *_duplicates(zh_hans for zh_hans, _en in cleaned if zh_hans),
        *_duplicates(en for _zh_hans, en in cleaned if en),
    ]
    if duplicates:
        errors.append(_("Each choice must be different: %(labels)s.") % {"labels": ", ".join(duplicates)})
    longest = QuestionOption._meta.get_field("label").max_length or 200
    if any(len(label) > longest for pair in cleaned for label in pair):
        errors.append(_("A choice may have at most %(max)s characters.") % {"max": longest})
    if errors:
        raise ValidationError({"options": errors})
    return cleaned


def _validate_question(question: Question, options: Iterable[Any] | None) -> list[OptionLabels]:
    """Check the question and its choices together (every field's errors at once); return
    the cleaned labels of the choices."""
    errors: dict[str, list[str]] = {}
    labels: list[OptionLabels] = []
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


def _set_options(question: Question, pairs: list[OptionLabels]) -> None:
    """Replace the question's choices by ``pairs`` in that order. A row (and its id) is kept
    for a choice whose labels did not change, or whose label changed in one language only."""
    existing = list(question.options.order_by("position", "pk"))
    unused = list(existing)
    assigned: dict[int, QuestionOption] = {}
    same_rules = (
        lambda option, zh_hans, en: (option.label, option.label_en) == (zh_hans, en),
        lambda option, zh_hans, en: bool(zh_hans) and option.label == zh_hans,
        lambda option, zh_hans, en: bool(en) and option.label_en == en,
    )
    for same in same_rules:
        for index, (zh_hans, en) in enumerate(pairs):
            if index in assigned:
                continue
            match = next((option for option in unused if same(option, zh_hans, en)), None)
            if match is not None:
                unused.remove(match)
                assigned[index] = match
    for position, (zh_hans, en) in enumerate(pairs):
        option = assigned.get(position)
        if option is None:
            option = QuestionOption(question=question, position=position, label=zh_hans, label_en=en)
            option.full_clean()
            option.save()
            continue
        changed = {"position": position, "label": zh_hans, "label_en": en}
        changed = {name: value for name, value in changed.items() if getattr(option, name) != value}
        if changed:
            for name, value in changed.items():
                setattr(option, name, value)
            option.save(update_fields=list(changed))
    for option in unused:
        _delete(option)


def question_create(
    *,
    section: QuestionnaireSection,
    kind: str,
    text: str = "",
    text_en: str = "",
    help_text: str = "",
    help_text_en: str = "",
    required: bool = True,
    comment_below: int | None = None,
    service: Any = None,
    sla_target: Any = None,
    service_ref: str = "",
    target_ref: str = "",
    options: Sequence[Any] = (),
    actor: User,
) -> Question:
    """Add a question at the end of ``section``, with its choices (single / multiple choice:
    two to thirty different labels, as ``(Chinese, English)`` pairs or Chinese strings).
    ``text`` / ``text_en``: the question in Chinese and in English (one at least);
    ``comment_below`` only for ratings.

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
            text_en=text_en,
            help_text=help_text,
            help_text_en=help_text_en,
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
    """Change a question; ``options`` (choices as for ``question_create``, when given) replaces
    its choices, keeping the rows of unchanged labels. Changing the type to one without choices needs
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
            options = list(question.options.order_by("position", "pk").values_list("label", "label_en"))
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
