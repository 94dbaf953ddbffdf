"""The pages of continual improvement: the register (``items``), the plans and their actions
(``plans``), the tracking sheet (``tracking``) and the review meetings (``meetings``)."""
