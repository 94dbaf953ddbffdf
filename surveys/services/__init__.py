"""Every write of the satisfaction app, by area: ``callbacks``, ``weekly``."""
