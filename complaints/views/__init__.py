"""Complaint pages: lists and reports (``lists``), one complaint (``records``), the customer's
confirmation page (``public``)."""
