"""Service catalogue and agreement pages; each area declares its own ``urlpatterns``."""
