"""Signals other apps listen to. Sent after the transaction that caused them commits."""

from django.dispatch import Signal

# A calendar or one of its overrides changed (kwargs: calendar). Apps holding due dates
# computed from it (complaints, call-backs, reporting obligations) recompute them.
calendar_changed = Signal()
