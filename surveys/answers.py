"""One customer's answers, as plain data: what the answer form produces and the service stores.

``AnswerInput`` is the shape shared by the public answer form, the preview and
``surveys.services.invitations.response_submit``. The validation rules (required questions,
ranges per type, choices belonging to the question, a comment under a low rating) live in
``answer_errors`` so the form and the service apply exactly the same ones.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AnswerInput:
    """The answer to one question. ``value``: rating 1–5, NPS 0–10, yes 1 / no 0;
    ``option_ids``: the chosen options (one for single choice); ``text``: free text;
    ``comment``: the remark under a rating."""

    question_id: int
    value: int | None = None
    option_ids: tuple[int, ...] = ()
    text: str = ""
    comment: str = ""

    @property
    def is_empty(self) -> bool:
        return self.value is None and not self.option_ids and not self.text.strip()
