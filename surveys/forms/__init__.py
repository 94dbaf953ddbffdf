"""Forms of the satisfaction app, one module per area: ticket call-backs (``callbacks``), weekly
visit reports (``weekly``), the questionnaire builder (``questionnaires``), survey campaigns
(``campaigns``), the customer's answer form (``answers``) and the results pages (``results``)."""
