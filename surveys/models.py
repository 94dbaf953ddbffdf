"""Satisfaction (满意度): the domain records of this app are added by its own issue."""
