"""A committee's report: figures for an organisation's subtree and for each organisation directly below it, as JSON
or as an XLSX workbook to send upward.

The owning service answers ids and numbers from its running totals (shared/tallies.py):
`{organization_id, <what it is about>…, <count>…, children: [{organization_id, <count>…}]}`. The gateway completes
it, the same way for every report: each child's name from members (asked as the requesting member, so members
decides what they may see), the children nothing was counted for yet as rows of zeros, and the rates. Rates are
computed here, not by each service: the zero rows are made here and need theirs too, a service then answers only
sums (which add up exactly), and the JSON and the workbook show the same numbers.

    ATTENDANCE = Report("Attendance", "attendance", "Chuyên cần / Attendance",
                        about={"month": ("Tháng / Month", fields.String())},
                        columns=(Count("meetings", "…"), Count("invited", "…"), Count("attended", "…"),
                                 Rate("rate", "attended", "invited", "…")))
    Route("GET", "/organizations/<int:organization_id>/attendance", "…", "meetings.attendance_report",
          ("organization_id", QUERY), query=…, report=ATTENDANCE)
"""

import io
import re
from dataclasses import dataclass, field

from marshmallow import Schema, fields
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from werkzeug.wrappers import Response

from shared.errors import ValidationError
from shared.http import NO_STORE

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = ("json", "xlsx")
NAME = "Tổ chức / Organisation"
TOTAL = "Cộng / Total"
SAFE = re.compile(r"[A-Za-z0-9-]{1,40}")


@dataclass(frozen=True)
class Count:
    key: str
    heading: str  # "Việt / English"


@dataclass(frozen=True)
class Rate:
    """`numerator / denominator` as a fraction 0–1; 0 when the denominator is 0."""

    key: str
    numerator: str
    denominator: str
    heading: str


@dataclass(frozen=True)
class Report:
    schema_name: str  # the answer's name in OpenAPI
    file_stem: str  # the downloaded file's name starts with it: "attendance-12-2026-11.xlsx"
    title: str  # "Việt / English"
    columns: tuple  # Count and Rate, in the table's order
    about: dict = field(default_factory=dict)  # the answer's fields saying what it is about: {key: (heading, field)}

    @property
    def counts(self):
        return [column.key for column in self.columns if isinstance(column, Count)]

    @property
    def schema(self):
        return _schema(self)

    def complete(self, answer, children):
        """The service's answer with every child of members' list (in its order), each named, and the rates."""
        counted = {row["organization_id"]: row for row in answer.get("children", ())}
        rows = [
            {"organization_id": child["id"], "name": child["name"], **self._figures(counted.get(child["id"], {}))}
            for child in children
        ]
        return {
            "organization_id": answer["organization_id"],
            **{key: answer[key] for key in self.about},
            **self._figures(answer),
            "children": rows,
        }

    def _figures(self, row):
        figures = {key: int(row.get(key) or 0) for key in self.counts}
        for column in self.columns:
            if isinstance(column, Rate):
                below = figures[column.denominator]
                figures[column.key] = round(figures[column.numerator] / below, 4) if below else 0.0
        return figures

    def workbook(self, table, organization):
        """The table as XLSX bytes: a title row naming the organisation and what the figures are about, the
        headings, a row per child, the total."""
        book = Workbook(write_only=True)
        sheet = book.create_sheet("Báo cáo")
        sheet.column_dimensions["A"].width = 48
        for letter in "BCDEFGHIJ"[: len(self.columns)]:
            sheet.column_dimensions[letter].width = 18
        bold = Font(bold=True)
        sheet.append([_text(sheet, f"{self.title} — {organization['name']}", bold)])
        about = "; ".join(f"{heading}: {table[key]}" for key, (heading, _) in self.about.items())
        sheet.append([_text(sheet, about)] if about else [])
        sheet.append([])
        sheet.append([_text(sheet, heading, bold) for heading in (NAME, *(c.heading for c in self.columns))])
        for row in table["children"]:
            sheet.append([_text(sheet, row["name"]), *self._cells(sheet, row)])
        sheet.append([_text(sheet, TOTAL, bold), *self._cells(sheet, table, bold)])
        out = io.BytesIO()
        book.save(out)
        return out.getvalue()

    def _cells(self, sheet, row, font=None):
        cells = []
        for column in self.columns:
            cell = WriteOnlyCell(sheet, value=row[column.key])
            if isinstance(column, Rate):
                cell.number_format = "0.0%"
            if font:
                cell.font = font
            cells.append(cell)
        return cells

    def file_name(self, table):
        """`<stem>-<organisation id>-<what it is about>.xlsx`, from ids and months only: a title stays out of it."""
        about = [str(table[key]) for key in self.about if SAFE.fullmatch(str(table[key]))]
        return "-".join([self.file_stem, str(table["organization_id"]), *about]) + ".xlsx"


def _text(sheet, value, font=None):
    """A cell that is text whatever it starts with: a name like "=HYPERLINK(…)" is never a formula."""
    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"
    if font:
        cell.font = font
    return cell


def wanted_format(request):
    """`?format=xlsx|json`, else the Accept header: XLSX only when it is asked for by name."""
    asked = request.args.get("format")
    if asked is not None:
        if asked not in FORMATS:
            raise ValidationError(details={"format": [f"Một trong / one of: {', '.join(FORMATS)}"]})
        return asked
    return "xlsx" if XLSX in request.headers.get("Accept", "") else "json"


def serve(service, route, request, path):
    """What a report route answers: the owning service's figures completed, as JSON or as a workbook."""
    form = wanted_format(request)
    answer = route.call_rpc(service.rpc, request, path)
    members = service.rpc.members
    table = route.report.complete(answer, members.list_children(answer["organization_id"])["items"])
    if form == "json":
        return table
    workbook = route.report.workbook(table, members.get_organization(answer["organization_id"]))
    return Response(
        workbook,
        content_type=XLSX,
        headers={
            "Content-Disposition": f'attachment; filename="{route.report.file_name(table)}"',
            "Cache-Control": NO_STORE,
        },
    )


_schemas = {}


def _schema(report):
    """The JSON answer's schema, made once per report (OpenAPI names it `report.schema_name`)."""
    if report.schema_name not in _schemas:

        def figures():
            return {
                column.key: fields.Float(required=True, metadata={"description": "0–1"})
                if isinstance(column, Rate)
                else fields.Integer(required=True)
                for column in report.columns
            }

        child = Schema.from_dict(
            {"organization_id": fields.Integer(required=True), "name": fields.String(required=True), **figures()},
            name=f"{report.schema_name}Child",
        )
        _schemas[report.schema_name] = Schema.from_dict(
            {
                "organization_id": fields.Integer(required=True),
                **{key: kind for key, (_, kind) in report.about.items()},
                **figures(),
                "children": fields.List(fields.Nested(child), required=True),
            },
            name=report.schema_name,
        )
    return _schemas[report.schema_name]
