"""Pages of the core app: its own pages (``pages``: home, reference data, calendars, audit trail,
health), the mail queue (``notifications``) and the generic list / detail / edit / history views
every app's pages build on (``generic``)."""
