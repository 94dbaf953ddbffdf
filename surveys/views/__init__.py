"""Satisfaction pages, by area: ticket call-backs (``callbacks``), weekly visit reports
(``weekly``), the questionnaire builder (``questionnaires``), survey campaigns (``campaigns``),
their results (``results``) and the customer's survey page (``public``)."""
