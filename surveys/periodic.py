"""Periodic checks of the satisfaction app (registered with the core registry)."""
