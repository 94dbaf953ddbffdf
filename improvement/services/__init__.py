"""Every write of continual improvement: the register (``items``), the plans and their actions
(``plans``), the review meetings (``meetings``) and the system's intake (``intake``)."""
