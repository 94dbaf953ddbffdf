#!/usr/bin/env python
"""Fail when a user-facing string has no Chinese translation.

Checks ``locale/zh_Hans/LC_MESSAGES/django.po`` (SPEC §10: zh-hans is the default language,
every label and email translated). By default it first re-extracts the strings from the
current sources with ``makemessages`` into a throw-away copy of the tree, so a string someone
added to the code but never put into the catalogue fails too, and the committed catalogue is
left untouched. An entry fails when

- its ``msgstr`` (or any ``msgstr[n]`` of a plural entry) is empty,
- it is marked ``#, fuzzy`` (msgfmt leaves fuzzy entries out of the ``.mo``), or
- its ``%(name)s`` placeholders differ from the source's (the page would raise or lose data).

Usage: ``python scripts/check_translations.py [--no-extract] [--locale zh_Hans]``.
Exit status 0 when every entry is translated, 1 otherwise (each problem listed), 2 when
extraction itself failed. Fix with ``make``-free steps: ``manage.py makemessages -l zh_Hans
-l en ...`` (see README), translate, ``manage.py compilemessages``.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess  # noqa: S404  (runs this project's own manage.py)
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
CATALOGUE = "locale/{locale}/LC_MESSAGES/django.po"
# The same ignores as the documented makemessages command.
IGNORE = (".venv", "staticfiles", "var", "tests")
# Not copied into the throw-away tree: nothing in them is a source string.
COPY_IGNORE = shutil.ignore_patterns(
    ".git", ".venv", "var", "staticfiles", "media", "node_modules", "__pycache__", ".*_cache", "*.mo", "*.sqlite3*"
)
PLACEHOLDER = re.compile(r"%\((\w+)\)[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")
ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "a": "\a", "b": "\b", "f": "\f", "v": "\v"}


@dataclass
class Entry:
    line: int
    flags: set[str] = field(default_factory=set)
    msgctxt: str | None = None
    msgid: str = ""
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str | None, str]:
        return (self.msgctxt, self.msgid)

    def label(self) -> str:
        text = self.msgid if self.msgctxt is None else f"[{self.msgctxt}] {self.msgid}"
        return text.replace("\n", "\\n")


def _unquote(text: str) -> str:
    text = text.strip()
    if len(text) < 2 or text[0] != '"' or text[-1] != '"':
        raise ValueError(f"not a quoted PO string: {text!r}")
    return re.sub(r"\\(.)", lambda m: ESCAPES.get(m.group(1), m.group(1)), text[1:-1])


def parse_po(path: Path) -> list[Entry]:
    """The live entries of a PO file, header included; obsolete (``#~``) entries are skipped.

    gettext's tools write one entry per blank-line separated block, which is all this expects.
    """
    entries: list[Entry] = []
    lines = path.read_text(encoding="utf-8").splitlines() + [""]
    block: list[tuple[int, str]] = []
    for number, raw in enumerate(lines, start=1):
        if raw.strip():
            block.append((number, raw.strip()))
            continue
        if block and not all(line.startswith("#") for _n, line in block):
            entries.append(_parse_entry(path, block))
        block = []
    return entries


def _parse_entry(path: Path, block: list[tuple[int, str]]) -> Entry:
    entry = Entry(line=block[0][0])
    target: tuple[str, int] | None = None
    for number, line in block:
        if line.startswith("#,"):
            entry.flags.update(flag.strip() for flag in line[2:].split(","))
            continue
        if line.startswith("#"):
            continue
        if line.startswith('"'):
            value = _unquote(line)
        else:
            keyword, _space, rest = line.partition(" ")
            match = re.fullmatch(r"msgstr\[(\d+)\]", keyword)
            if match:
                target = ("msgstr", int(match.group(1)))
            elif keyword == "msgstr":
                target = ("msgstr", 0)
            elif keyword in ("msgid", "msgid_plural", "msgctxt"):
                target = (keyword, 0)
                if keyword == "msgid":
                    entry.line = number
            else:
                raise ValueError(f"{path}:{number}: cannot parse {line!r}")
            value = _unquote(rest)
        if target is None:
            raise ValueError(f"{path}:{number}: string outside a field: {line!r}")
        name, index = target
        if name == "msgstr":
            entry.msgstr[index] = entry.msgstr.get(index, "") + value
        else:
            setattr(entry, name, (getattr(entry, name) or "") + value)
    return entry


def problems_of(entries: list[Entry]) -> list[tuple[Entry, str]]:
    """(entry, reason) for every entry that would show English on a Chinese page."""
    problems = []
    for entry in entries:
        if "fuzzy" in entry.flags:
            problems.append((entry, "fuzzy"))
        if entry.msgid == "" and entry.msgctxt is None:
            continue  # the header
        if not entry.msgstr or any(not text for text in entry.msgstr.values()):
            problems.append((entry, "untranslated"))
            continue
        wanted = set(PLACEHOLDER.findall(entry.msgid)) | set(PLACEHOLDER.findall(entry.msgid_plural or ""))
        for index, text in sorted(entry.msgstr.items()):
            found = set(PLACEHOLDER.findall(text))
            if found != wanted:
                problems.append((entry, f"placeholders differ in msgstr[{index}]: {sorted(found)} != {sorted(wanted)}"))
    return problems


def extract(locale: str, workdir: Path) -> Path:
    """Copy the tree to ``workdir`` and run makemessages there; the refreshed catalogue's path."""
    tree = workdir / "tree"
    shutil.copytree(BASE_DIR, tree, ignore=COPY_IGNORE)
    command = [sys.executable, "manage.py", "makemessages", "-l", locale, "--verbosity=0"]
    command += [f"--ignore={name}" for name in IGNORE]
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "itsm.settings.test")}
    result = subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit(2)
    return tree / CATALOGUE.format(locale=locale)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--locale", default="zh_Hans", help="catalogue to check (default: zh_Hans)")
    parser.add_argument(
        "--no-extract",
        action="store_true",
        help="check the committed catalogue as it is, without re-extracting strings from the sources",
    )
    args = parser.parse_args(argv)

    committed_path = BASE_DIR / CATALOGUE.format(locale=args.locale)
    if not committed_path.exists():
        print(f"{committed_path.relative_to(BASE_DIR)} does not exist: run makemessages -l {args.locale}")
        return 1
    committed = parse_po(committed_path)
    shown_path = committed_path.relative_to(BASE_DIR)
    missing: list[Entry] = []
    if args.no_extract:
        checked = committed
    else:
        with tempfile.TemporaryDirectory(prefix="check-translations-") as workdir:
            checked = parse_po(extract(args.locale, Path(workdir)))
        known = {entry.key for entry in committed}
        missing = [entry for entry in checked if entry.key not in known]

    problems = problems_of(checked)
    missing_keys = {entry.key for entry in missing}
    for entry in missing:
        print(f"{shown_path}: not in the catalogue (run makemessages): {entry.label()!r}")
    for entry, reason in problems:
        if entry.key in missing_keys and reason == "untranslated":
            continue
        where = f"{shown_path}:{entry.line}" if args.no_extract else str(shown_path)
        print(f"{where}: {reason}: {entry.label()!r}")
    total = len(checked)
    bad = len({id(entry) for entry, _reason in problems} | {id(entry) for entry in missing})
    if bad:
        print(f"{bad} of {total} {args.locale} entries need a translation.")
        return 1
    print(f"All {total} {args.locale} entries are translated.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
