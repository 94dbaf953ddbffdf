"""Placeholder: filled in by its own part of issue 4."""

urlpatterns: list = []
