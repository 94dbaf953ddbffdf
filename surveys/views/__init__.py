"""Satisfaction pages: ticket call-backs (``callbacks``), weekly visit reports (``weekly``)."""
