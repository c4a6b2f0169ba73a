"""R37: the number list as CSV, line by line, safe to open in a spreadsheet.

Formula injection (OWASP "CSV Injection"): a spreadsheet runs a cell that begins with
`=`, `+`, `-` or `@` (and some also after a leading tab or carriage return) as a formula,
so a display name typed as `=HYPERLINK(...)` would run on the operator's machine. Every
such cell is written with a leading apostrophe (`'`), OWASP's advice: spreadsheets show
it as text and run nothing.

An E.164 number begins with `+` too. Written bare, a spreadsheet takes it for a formula or
a number: it drops the `+` and shows a long one as 4.42079E+11, unreadable. So the number
column gets the same apostrophe (`'+442079460100`): read as text, digits kept, and a
number is never treated differently from any other cell. `pbx numbers import` and the
upload accept a cell with that one leading apostrophe, so an exported file can be edited
and uploaded again.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

from pbx.services.number_list import ListedNumber

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
COLUMNS = ("number", "extension", "occupier", "site", "status", "main", "user", "display_name", "phone_id")


def safe_cell(value: str) -> str:
    """The cell as a spreadsheet will show it, never run: a leading apostrophe before a formula trigger."""
    return f"'{value}" if value.startswith(FORMULA_TRIGGERS) else value


def unquoted_cell(value: str) -> str:
    """A cell read back: the one apostrophe `safe_cell` added is dropped."""
    return value[1:] if value.startswith("'") and value[1:2] in FORMULA_TRIGGERS else value


def row_cells(row: ListedNumber) -> list[str]:
    return [
        row.e164,
        row.extension,
        row.occupier,
        row.site,
        row.status,
        "yes" if row.main else "",
        row.user,
        row.display_name,
        row.phone_id,
    ]


def _line(cells: Iterable[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow([safe_cell(c) for c in cells])
    return out.getvalue()


def csv_lines(rows: Iterable[ListedNumber]) -> Iterator[str]:
    """The header, then one line per row as the rows arrive (nothing is collected)."""
    yield _line(COLUMNS)
    for row in rows:
        yield _line(row_cells(row))
