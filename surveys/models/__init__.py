"""Models of the satisfaction app, one module per area; import them from here."""

from .callbacks import CallBack, Ticket
from .campaigns import (
    Answer,
    Campaign,
    CampaignDepartmentRatio,
    CampaignEvent,
    Invitation,
    SurveyResponse,
)
from .questionnaires import Question, Questionnaire, QuestionnaireSection, QuestionOption
from .weekly import WeeklyReport, WeeklyReportItem

__all__ = [
    "Answer",
    "CallBack",
    "Campaign",
    "CampaignDepartmentRatio",
    "CampaignEvent",
    "Invitation",
    "Question",
    "QuestionOption",
    "Questionnaire",
    "QuestionnaireSection",
    "SurveyResponse",
    "Ticket",
    "WeeklyReport",
    "WeeklyReportItem",
]
