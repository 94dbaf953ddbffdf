"""Placeholder: filled in by its own part of issue 5."""

urlpatterns: list = []
