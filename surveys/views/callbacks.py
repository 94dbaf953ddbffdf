"""Ticket call-back pages (being built)."""

urlpatterns: list = []
