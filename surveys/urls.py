"""Satisfaction pages; each area declares its own ``urlpatterns``."""

from .views import callbacks, weekly

urlpatterns = [*callbacks.urlpatterns, *weekly.urlpatterns]
