"""Continual improvement (持续改进): the domain records of this app are added by its own issue."""
