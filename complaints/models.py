"""Complaints (投诉): the domain records of this app are added by its own issue."""
