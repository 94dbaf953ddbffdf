"""Periodic checks of the service catalogue and agreements (registered with the core registry)."""
