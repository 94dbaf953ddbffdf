"""Demo data of the satisfaction app: each area's loader, in order."""

from importlib import import_module


def load(stdout) -> int:
    created = 0
    for name in ("surveys.demo_callbacks", "surveys.demo_weekly", "surveys.demo_campaigns"):
        try:
            module = import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        created += module.load(stdout)
    return created
