"""Every message a user can see goes through gettext (issue 9, item 7; STYLE "Messages").

The walk found an English error in the Chinese UI: the counterparty check marked its messages
with ``_lazy``, a name makemessages does not know, so they never reached the catalogue. This
test reads the project's source and fails on (1) a translation function imported under a name
makemessages does not extract, (2) a user-facing message — a ``ValidationError``,
``PermissionDenied``, ``messages.*`` call, ``add_error`` or DRF ``ValidationError`` — built
from a plain string or an f-string instead of a translated one. The catalogue check
(scripts/check_translations.py) then proves every extracted string has its Chinese.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
APPS = ("itsm", "complaints", "surveys", "sla", "improvement", "kpi")
# What makemessages extracts (xgettext keywords Django passes) under their own names.
EXTRACTED = {
    "gettext",
    "gettext_lazy",
    "gettext_noop",
    "ngettext",
    "ngettext_lazy",
    "pgettext",
    "pgettext_lazy",
    "npgettext",
    "npgettext_lazy",
    "_",
}
MESSAGE_CALLS = {"ValidationError", "PermissionDenied", "TransitionRefused", "ApplicationError"}
MESSAGE_METHODS = {"add_error", "success", "error", "warning", "info"}
# Developer-facing: management commands, settings, migrations, test helpers.
SKIP_PARTS = {"migrations", "management", "settings", "testing.py"}


def _sources() -> list[Path]:
    files = []
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if not SKIP_PARTS & set(path.relative_to(ROOT).parts) and path.name not in SKIP_PARTS:
                files.append(path)
    return files


def _plain_text(node: ast.AST) -> bool:
    """A literal string or f-string (not wrapped in a translation call)."""
    return isinstance(node, ast.JoinedStr) or (isinstance(node, ast.Constant) and isinstance(node.value, str))


def _message_args(call: ast.Call) -> list[ast.AST]:
    args = list(call.args) + [kw.value for kw in call.keywords if kw.arg in ("message", "detail")]
    found = []
    for arg in args:
        found.append(arg)
        if isinstance(arg, ast.Dict):  # {"field": "message"} / {"field": ["message"]}
            for value in arg.values:
                found.extend(value.elts if isinstance(value, ast.List | ast.Tuple) else [value])
        elif isinstance(arg, ast.List | ast.Tuple):
            found.extend(arg.elts)
    return found


def _problems(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    where = path.relative_to(ROOT)
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "django.utils.translation":
            for alias in node.names:
                if alias.asname and alias.asname not in EXTRACTED:
                    problems.append(
                        f"{where}:{node.lineno}: {alias.name} imported as {alias.asname!r}, "
                        "which makemessages does not extract"
                    )
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        is_message = name in MESSAGE_CALLS or (
            isinstance(func, ast.Attribute)
            and name in MESSAGE_METHODS
            and (name == "add_error" or (isinstance(func.value, ast.Name) and func.value.id == "messages"))
        )
        if not is_message:
            continue
        args = _message_args(node)
        if name == "add_error":
            args = args[1:]  # the first argument is the field
        elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "messages":
            args = args[1:]  # messages.success(request, message)
        for arg in args:
            if _plain_text(arg) and (not isinstance(arg, ast.Constant) or arg.value.strip()):
                problems.append(f"{where}:{arg.lineno}: {name}() with an untranslated message")
    return problems


def test_every_user_facing_message_is_translated():
    problems = [problem for path in _sources() for problem in _problems(path)]
    assert not problems, "messages a user sees must go through gettext:\n" + "\n".join(problems)


def test_the_counterparty_error_reads_in_chinese(client):
    """The walk: a supplier as an SLA's counterparty answered in English in the Chinese UI."""
    from sla.choices import AgreementKind
    from sla.services.agreements import check_counterparty
    from tests.factories import OrganisationFactory

    supplier = OrganisationFactory.build(name="天联通信", kind="supplier")
    with pytest.raises(Exception) as caught:
        check_counterparty(AgreementKind.SLA, supplier)
    message = caught.value.message_dict["counterparty"][0]
    assert message == "SLA 与客户签订；天联通信 不是客户（其类型为：供应商）。", message
