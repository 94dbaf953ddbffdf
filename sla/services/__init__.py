"""Every write of the sla app, by area: ``catalogue``, ``agreements``, ``targets``,
``measurements``, ``reports``, ``reviews``."""
