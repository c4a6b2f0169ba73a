"""R37: bulk allocation from a CSV file: all or nothing, each wrong row named by its row number.

The file has a header row naming the columns `number`, `extension`, `occupier`, `site`
(any order, any case; other columns are ignored); the occupier and the site by name.
Rows are numbered as a spreadsheet shows them: the header is row 1, the first number row 2.

Every row is checked with the single allocation's rules (pbx.services.operator.
check_allocation: E.164 through phonenumbers, the extension's format, the occupier based at
that site, number and extension not taken, the site's emergency numbers) plus the file's own
duplicates (a number twice, an extension twice for one occupier). `plan` is the preview
(a dry run: what would be allocated, or every row's error); `allocate` writes the whole file
in the caller's one transaction, or nothing (`RowErrors`). New numbers start Reserved (R4).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from pbx.services import operator as ops
from pbx.services.actor import Actor
from pbx.services.errors import FieldErrors, InvalidInput, PbxError
from pbx.services.number_csv import unquoted_cell
from pbx.store.models import Occupier, PhoneNumber, Site

REQUIRED = ("number", "extension", "occupier", "site")
MAX_ROWS = 10_000
MAX_BYTES = 2_000_000
FILE = "file"


class RowErrors(FieldErrors):
    """Every wrong row of a file, keyed "row <n>", each message starting "Row <n>: "."""


@dataclass(frozen=True)
class PlannedRow:
    """A row that will be allocated, as the preview shows it."""

    row: int
    number: str
    extension: str
    occupier: str
    site: str


@dataclass(frozen=True)
class Plan:
    rows: list[PlannedRow]
    errors: dict[str, str]

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.rows)


def _decode(data: bytes | str) -> str:
    if isinstance(data, str):
        return data
    if len(data) > MAX_BYTES:
        raise InvalidInput(FILE, f"the file is larger than {MAX_BYTES // 1_000_000} MB", "File")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(FILE, "save the file as CSV in UTF-8", "File") from None


def _records(text: str) -> list[tuple[int, dict[str, str]]]:
    reader = csv.reader(io.StringIO(text))
    header = [h.strip().lower() for h in next(reader, [])]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise InvalidInput(
            FILE, f"the header row needs the columns {', '.join(REQUIRED)} (missing: {', '.join(missing)})", "File"
        )
    records: list[tuple[int, dict[str, str]]] = []
    for row_number, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue  # a blank line, as spreadsheets leave at the end
        if len(records) >= MAX_ROWS:
            raise InvalidInput(FILE, f"at most {MAX_ROWS:,} numbers per file", "File")
        values = {name: unquoted_cell(cells[i].strip()) if i < len(cells) else "" for i, name in enumerate(header)}
        records.append((row_number, values))
    if not records:
        raise InvalidInput(FILE, "the file has no numbers under its header row", "File")
    return records


def plan(session: Session, actor: Actor, data: bytes | str) -> Plan:
    """The preview: every row checked as a single allocation would be, plus the file's own duplicates."""
    actor.require_operator()
    records = _records(_decode(data))
    occupiers = {o.name: o for o in session.scalars(select(Occupier))}
    sites = {s.name: s for s in session.scalars(select(Site))}
    planned: list[PlannedRow] = []
    errors: dict[str, str] = {}
    seen_numbers: dict[str, int] = {}
    seen_extensions: dict[tuple[int, str], int] = {}
    for row_number, values in records:
        key = f"row {row_number}"
        try:
            occupier, site = occupiers.get(values["occupier"]), sites.get(values["site"])
            if occupier is None:
                raise InvalidInput("occupier", f"there is no occupier called {values['occupier']!r}")
            if site is None:
                raise InvalidInput("site", f"there is no site called {values['site']!r}")
            checked = ops.check_allocation(session, occupier, site, values["number"], values["extension"])
        except PbxError as refusal:
            errors[key] = f"Row {row_number}: {_reasons(refusal)}"
            continue
        first = seen_numbers.setdefault(checked.e164, row_number)
        first_ext = seen_extensions.setdefault((occupier.id, checked.extension), row_number)
        if first != row_number:
            errors[key] = f"Row {row_number}: {checked.e164} is also in row {first}"
        elif first_ext != row_number:
            errors[key] = (
                f"Row {row_number}: extension {checked.extension} of {occupier.name} is also in row {first_ext}"
            )
        else:
            planned.append(PlannedRow(row_number, checked.e164, checked.extension, occupier.name, site.name))
    return Plan(planned, errors)


def _reasons(refusal: PbxError) -> str:
    if isinstance(refusal, FieldErrors):
        return "; ".join(refusal.errors.values())
    return refusal.message


def allocate(session: Session, actor: Actor, data: bytes | str) -> list[PhoneNumber]:
    """R37: allocate every row of the file in the caller's transaction, or nothing (RowErrors)."""
    checked = plan(session, actor, data)
    if checked.errors:
        raise RowErrors(checked.errors)
    occupiers = {o.name: o for o in session.scalars(select(Occupier))}
    sites = {s.name: s for s in session.scalars(select(Site))}
    return [
        ops.allocate_number(session, actor, occupiers[r.occupier].id, sites[r.site].id, r.number, r.extension)
        for r in checked.rows
    ]
