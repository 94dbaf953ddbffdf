"""Questionnaire texts in two languages: simplified Chinese and English.

Every text of a questionnaire (its title, introduction and thank-you text; a section's title
and description; a question's text and explanation; a choice's label) is a pair of columns:
``<name>`` holds the simplified Chinese text and ``<name>_en`` the English one. Either may be
empty; a text that must be given needs at least one of the two.

``Bilingual`` is the pair as one value. Shown as a string (``str()``, ``{{ value }}`` in a
template, ``%s``) it is the text of the active language, or the other language's when that
one is missing, so pages and mails rendered in the contact's (or viewer's) language pick the
right text without naming a column. ``missing_en`` / ``missing_zh_hans`` say which
translation is missing, for the builder's flags.

Models expose the pairs through ``BilingualText`` descriptors (``question.text_i18n``), and
``surveys.answers.questionnaire_content`` carries them as ``Bilingual`` values under the plain
names (``content_question.text``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import gettext as _

ZH_HANS = "zh-hans"
EN = "en"
LANGUAGES = (ZH_HANS, EN)
EN_SUFFIX = "_en"


def language_of(code: str | None) -> str:
    """``code`` (``en-us``, ``zh-hans``, ``zh-cn``…; None: the active language) as ``en`` or ``zh-hans``."""
    code = (code or translation.get_language() or settings.LANGUAGE_CODE).lower()
    return EN if code.split("-")[0] == EN else ZH_HANS


def other_language(language: str) -> str:
    return ZH_HANS if language_of(language) == EN else EN


def column(name: str, language: str) -> str:
    """The column holding text ``name`` in ``language``: ``title`` / ``title_en``."""
    return f"{name}{EN_SUFFIX}" if language_of(language) == EN else name


@dataclass(frozen=True)
class Bilingual:
    """One text in simplified Chinese (``zh_hans``) and English (``en``); see the module docstring."""

    zh_hans: str = ""
    en: str = ""

    def get(self, language: str | None = None) -> str:
        """The text in ``language`` (None: the active one), else in the other language."""
        own, other = (self.en, self.zh_hans) if language_of(language) == EN else (self.zh_hans, self.en)
        return own or other

    def shown_language(self, language: str | None = None) -> str:
        """The language of what ``get(language)`` returns (``language`` itself when both are empty)."""
        language = language_of(language)
        return language if self.of(language) or not self.of(other_language(language)) else other_language(language)

    def of(self, language: str) -> str:
        """The text in exactly ``language`` (empty when it has none)."""
        return self.en if language_of(language) == EN else self.zh_hans

    @property
    def is_fallback(self) -> bool:
        """Shown in the active language, it is the other language's text."""
        return self.shown_language() != language_of(None)

    @property
    def lang(self) -> str:
        """The ``lang`` attribute of the text as shown now (for a fallback text in a page)."""
        return self.shown_language()

    @property
    def missing_en(self) -> bool:
        return bool(self.zh_hans) and not self.en

    @property
    def missing_zh_hans(self) -> bool:
        return bool(self.en) and not self.zh_hans

    @property
    def is_complete(self) -> bool:
        """Neither translation is missing (an empty text misses none)."""
        return not (self.missing_en or self.missing_zh_hans)

    def __str__(self) -> str:
        return self.get()

    def __bool__(self) -> bool:
        return bool(self.zh_hans or self.en)


def columns(names: tuple[str, ...] | list[str]) -> list[str]:
    """Both columns of each text in ``names``: ``["title", "title_en", …]``."""
    return [name + suffix for name in names for suffix in ("", EN_SUFFIX)]


def bilingual(obj: Any, name: str) -> Bilingual:
    """The pair of text ``name`` of a model row or a ``values()`` dict (``title`` and ``title_en``)."""
    if isinstance(obj, dict):
        return Bilingual(obj.get(name) or "", obj.get(f"{name}{EN_SUFFIX}") or "")
    return Bilingual(getattr(obj, name) or "", getattr(obj, f"{name}{EN_SUFFIX}") or "")


def localized(obj: Any, name: str, language: str | None = None) -> str:
    """Text ``name`` of ``obj`` in ``language`` (None: the active one), else in the other language."""
    return bilingual(obj, name).get(language)


def require_text(obj: Any, *names: str) -> None:
    """Refuse (``ValidationError`` under each such name) texts of ``obj`` given in neither
    language (blanks alone are no text)."""
    errors = {
        name: _("Write this in Chinese or in English (or both).")
        for name in names
        if not (bilingual(obj, name).zh_hans.strip() or bilingual(obj, name).en.strip())
    }
    if errors:
        raise ValidationError(errors, code="required")


class BilingualText:
    """A model's ``<name>_i18n`` attribute: ``bilingual(row, name)``, read-only.

    ``title_i18n = BilingualText("title")`` next to the columns ``title`` and ``title_en``.
    """

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        return bilingual(obj, self.name)


def missing_counts(texts: list[Bilingual]) -> dict[str, int]:
    """How many of ``texts`` miss their English and their Chinese version."""
    return {
        EN: sum(1 for text in texts if text.missing_en),
        ZH_HANS: sum(1 for text in texts if text.missing_zh_hans),
    }
