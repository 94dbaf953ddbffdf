"""Demo data of the satisfaction app for ``manage.py load_demo``: each area's loader, in order
(``callbacks``, ``weekly``, ``campaigns``)."""

from . import callbacks, campaigns, weekly


def load(stdout) -> int:
    return sum(area.load(stdout) for area in (callbacks, weekly, campaigns))
