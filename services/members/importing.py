"""Import of the Party member database export (CSV or XLSX).

Rows are checked one by one (a row is rejected only for the reasons the issue
lists; other oddities are warnings), staged, then applied to members in one
transaction: a crash leaves members as they were, and re-running a file gives
the same result (an existing citizen ID updates that member). Other services
hear one `members.members_imported` event and re-read what changed in bulk.

A running job holds an owner lease in members' database (`IMPORT_LEASE_SECONDS`),
renewed with its progress in short transactions: any members process reads the
same progress, and a job whose process died is marked failed by whichever members
process sweeps first (a conditional UPDATE on the lapsed lease, safe with replicas).
The apply transaction goes in chunks with pauses, so the process keeps answering;
readers see the state before the import until it commits (all or nothing).

    python -m services.members.importing FILE [--dry-run]     (progress bar)
"""

import csv
import hashlib
import io
import os
import re
import socket
import sys
import time
import unicodedata
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.schema import CreateIndex

from shared import config, uploads
from shared.contracts.common import CITIZEN_ID, NOT_A_MOBILE, is_citizen_id, normalize_phone
from shared.db import aware, utcnow
from shared.errors import Forbidden, NotFound
from shared.tree import ancestor_ids
from services.members import counts
from services.members.domain import CARD_TAKEN, load_actor, search_key
from services.members.models import AuditEntry, ImportJob, ImportRow, Member, Organization

COLUMNS = (
    "citizen_id",
    "full_name",
    "date_of_birth",
    "gender",
    "phone",
    "email",
    "party_card_number",
    "admission_date",
    "official_date",
    "organization_code",
    "status",
)
GENDERS = {"male": "male", "nam": "male", "female": "female", "nữ": "female"}
STATUSES = {"probationary": "probationary", "dự bị": "probationary", "official": "official", "chính thức": "official"}
ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
VN_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
STAGE_BATCH = 500  # rows per staging transaction: each is one short blocking call
REPORT_EVERY = 1000  # rows between progress writes (and lease renewals) while checking
APPLY_CHUNK = 500  # staged rows per statement of the apply transaction, with a pause between
ACTIVE = ("running", "applying")
INTERRUPTED = (
    "Việc nhập bị gián đoạn vì dịch vụ members đã dừng giữa chừng; chưa có thay đổi nào được áp dụng. "
    "Hãy nhập lại tệp. / The import was interrupted because the members service stopped mid-way; "
    "nothing was applied. Import the file again."
)
FAILED = (
    "Việc nhập không thành công ({cause}); chưa có thay đổi nào được áp dụng. Hãy kiểm tra tệp rồi nhập lại. "
    "/ The import failed ({cause}); nothing was applied. Check the file and import it again."
)
MAX_LISTED = 1000  # errors and warnings kept on the job (counts are always exact)

MESSAGES = {
    "citizen_id": CITIZEN_ID.error,
    "full_name": "Thiếu họ tên. / The name is missing.",
    "date": "Ngày không hợp lệ (YYYY-MM-DD hoặc DD/MM/YYYY). / Invalid date (YYYY-MM-DD or DD/MM/YYYY).",
    "phone": NOT_A_MOBILE,
    "organization_code": "Không có tổ chức đảng với mã này. / No party organisation has this code.",
    "status": "Trạng thái phải là dự bị / chính thức. / Status must be probationary or official.",
    "official_date": "Ngày chính thức trước ngày vào Đảng. / The official date is before the admission date.",
    "admission_age": "Chưa đủ 18 tuổi khi vào Đảng. / Under 18 at admission.",
    "duplicate": "Số định danh đã có ở dòng {row}. / This citizen ID already appears on row {row}.",
    "party_card_duplicate": "Số thẻ đảng đã có ở dòng {row}. / This party card number already appears on row {row}.",
    "party_card_taken": CARD_TAKEN,
}
WARNINGS = {
    "long_probation": "Dự bị quá 12 tháng. / Probationary for over a year.",
    "citizen_id_birth": (
        "Số định danh không khớp năm sinh hoặc giới tính. / The citizen ID disagrees with the birth year or gender."
    ),
    "likely_duplicate": "Có thể trùng người với số định danh {other}. / Likely the same person as citizen ID {other}.",
    "gender": "Giới tính không rõ, đã bỏ qua. / Unknown gender, left empty.",
    "email": "Thư điện tử không hợp lệ, đã bỏ qua. / Invalid e-mail, left empty.",
}


class RowError(Exception):
    def __init__(self, field, message):
        super().__init__(message)
        self.field, self.message = field, message


def parse_date(value, field):
    value = (value or "").strip()
    if not value:
        return None
    match = ISO_DATE.match(value)
    try:
        if match:
            return date(int(match[1]), int(match[2]), int(match[3]))
        match = VN_DATE.match(value)
        if match:
            return date(int(match[3]), int(match[2]), int(match[1]))
    except ValueError:
        pass
    raise RowError(field, MESSAGES["date"])


def parse_phone(value):
    """An empty cell is no phone; anything else must be a mobile number."""
    if not (value or "").strip():
        return None
    phone = normalize_phone(value)
    if phone is None:
        raise RowError("phone", MESSAGES["phone"])
    return phone


def _age_on(born, day):
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def _citizen_id_agrees(citizen_id, born, gender):
    """Digit 4 codes century and gender (0/1: 1900s, 2/3: 2000s; even male, odd female), digits 5-6 the year."""
    code = int(citizen_id[3])
    century = 1900 + 100 * (code // 2)
    if born and (century + int(citizen_id[4:6]) != born.year):
        return False
    return not gender or ("male", "female")[code % 2] == gender


class Checker:
    """Checks rows in file order; remembers what it saw for in-file duplicates."""

    def __init__(self, organizations, today=None):
        self.organizations = organizations  # code → (id, path)
        self.today = today or counts.vietnam_today()
        self.seen_citizens = {}
        self.seen_cards = {}
        self.seen_people = {}
        # the dashboard counts of what is accepted, by the deepest counted committee (see counts.py)
        self.tallies = Counter()
        self._counted = {}

    def check(self, number, raw):
        """(staged row or None, [(field, message)] errors, [(field, message)] warnings)"""
        warnings = []
        try:
            # a cell is trimmed like every other; what is stored is exactly the twelve ASCII digits
            citizen_id = (raw.get("citizen_id") or "").strip()
            if not is_citizen_id(citizen_id):
                raise RowError("citizen_id", MESSAGES["citizen_id"])
            name = " ".join(unicodedata.normalize("NFC", raw.get("full_name") or "").split())
            if not name:
                raise RowError("full_name", MESSAGES["full_name"])
            born = parse_date(raw.get("date_of_birth"), "date_of_birth")
            admitted = parse_date(raw.get("admission_date"), "admission_date")
            official = parse_date(raw.get("official_date"), "official_date")
            phone = parse_phone(raw.get("phone"))
            organization = self.organizations.get((raw.get("organization_code") or "").strip())
            if organization is None:
                raise RowError("organization_code", MESSAGES["organization_code"])
            status = STATUSES.get(unicodedata.normalize("NFC", (raw.get("status") or "").strip().lower()))
            if status is None:
                raise RowError("status", MESSAGES["status"])
            if official and admitted and official < admitted:
                raise RowError("official_date", MESSAGES["official_date"])
            if born and admitted and _age_on(born, admitted) < 18:
                raise RowError("admission_date", MESSAGES["admission_age"])
            if citizen_id in self.seen_citizens:
                raise RowError("citizen_id", MESSAGES["duplicate"].format(row=self.seen_citizens[citizen_id]))
            card = (raw.get("party_card_number") or "").strip() or None
            if card and card in self.seen_cards:
                raise RowError("party_card_number", MESSAGES["party_card_duplicate"].format(row=self.seen_cards[card]))
        except RowError as error:
            return None, [(error.field, error.message)], warnings
        self.seen_citizens[citizen_id] = number
        if card:
            self.seen_cards[card] = number
        gender_raw = unicodedata.normalize("NFC", (raw.get("gender") or "").strip().lower())
        gender = GENDERS.get(gender_raw)
        if gender_raw and gender is None:
            warnings.append(("gender", WARNINGS["gender"]))
        email = (raw.get("email") or "").strip() or None
        if email and not EMAIL.match(email):
            warnings.append(("email", WARNINGS["email"]))
            email = None
        if status == "probationary" and admitted and (self.today - admitted).days > 366:
            warnings.append(("status", WARNINGS["long_probation"]))
        if not _citizen_id_agrees(citizen_id, born, gender):
            warnings.append(("citizen_id", WARNINGS["citizen_id_birth"]))
        counted = self._counted.get(organization[0])
        if counted is None:
            counted = self._counted[organization[0]] = ancestor_ids(organization[1])[: counts.COUNTED_LEVELS][-1]
        self.tallies[(counted, "status", status)] += 1
        if status in counts.IN_PARTY:
            self.tallies[(counted, "gender", gender or "unknown")] += 1
            self.tallies[(counted, "birth_year", str(born.year) if born else "unknown")] += 1
            self.tallies[(counted, "activated", "no")] += 1
        key = search_key(name)
        if born:
            other = self.seen_people.setdefault((key, born), citizen_id)
            if other != citizen_id:
                warnings.append(("citizen_id", WARNINGS["likely_duplicate"].format(other=other)))
        return (
            {
                "row_number": number,
                "citizen_id": citizen_id,
                "full_name": name,
                "search_name": key,
                "date_of_birth": born,
                "gender": gender,
                "phone": phone,
                "email": email,
                "party_card_number": card,
                "admission_date": admitted,
                "official_date": official,
                "organization_id": organization[0],
                "organization_path": organization[1],
                "status": status,
            },
            [],
            warnings,
        )


def read_rows(content, filename=""):
    """(row number, dict) for each data row; the header is row 1. CSV (UTF-8, BOM or not) or XLSX."""
    if content[:4] == b"PK\x03\x04" or filename.lower().endswith(".xlsx"):
        yield from _read_xlsx(content)
        return
    text_stream = io.StringIO(content.decode("utf-8-sig"))
    reader = csv.DictReader(text_stream)
    reader.fieldnames = [(name or "").strip().lower() for name in reader.fieldnames or []]
    yield from enumerate(reader, start=2)


def _read_xlsx(content):
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(content), read_only=True, data_only=True).active
    rows = sheet.iter_rows(values_only=True)
    header = [str(h or "").strip().lower() for h in next(rows, [])]
    for number, values in enumerate(rows, start=2):
        cells = {}
        for name, value in zip(header, values, strict=False):
            if isinstance(value, datetime):
                value = value.date().isoformat()
            elif isinstance(value, date):
                value = value.isoformat()
            cells[name] = "" if value is None else str(value)
        yield number, cells


def count_rows(content, filename=""):
    if content[:4] == b"PK\x03\x04" or filename.lower().endswith(".xlsx"):
        return None
    lines = content.count(b"\n") + (0 if content.endswith(b"\n") else 1)
    return max(0, lines - 1)


class Checked:
    """What checking a file found: the counts and lists so far, and the tallies for a first import."""

    def __init__(self, checker, first_import):
        self.checker, self.first_import = checker, first_import
        self.accepted = self.rejected = 0
        self.errors, self.warnings = [], []


def run(session, job, content, filename="", dry_run=False, report=None, checkpoint=None, offload=None):
    """Check, stage and (unless dry-run) apply a file in `session`'s transaction. Returns the job."""
    return finish(
        session, job, check(session, job, content, filename, report, checkpoint), dry_run, report, offload=offload
    )


def check(session, job, content, filename="", report=None, checkpoint=None, stage=None):
    """Check every row and stage the accepted ones: `stage(batch)` (default: into `session`).

    `checkpoint()` is called before each row (yield to others); `report(job)` every few thousand rows.
    Only reads go through `session` here, so a service may stage in short transactions of its own.
    """
    stage = stage or (lambda batch: stage_rows(session, batch))
    organizations = {
        code: (oid, path)
        for code, oid, path in session.execute(select(Organization.code, Organization.id, Organization.path))
    }
    checked = Checked(Checker(organizations), session.execute(select(Member.id).limit(1)).first() is None)
    errors, warnings = checked.errors, checked.warnings
    job.total_rows = count_rows(content, filename) or 0
    batch = []
    for number, raw in read_rows(content, filename):
        if checkpoint:
            checkpoint()  # every row, rejected ones too: a file of bad rows must not hold the service
        if report and number % REPORT_EVERY == 0:
            job.processed_rows, job.accepted, job.rejected = number - 1, checked.accepted, checked.rejected
            report(job)
        row, row_errors, row_warnings = checked.checker.check(number, raw)
        if row_warnings:
            warnings.extend(
                {"row": number, "field": f, "message": m} for f, m in row_warnings if len(warnings) < MAX_LISTED
            )
        if row is None:
            checked.rejected += 1
            if len(errors) < MAX_LISTED:
                errors.extend({"row": number, "field": f, "message": m} for f, m in row_errors)
            continue
        checked.accepted += 1
        row["job_id"] = job.id
        batch.append(row)
        if len(batch) >= STAGE_BATCH:
            stage(batch)
            batch = []
    if batch:
        stage(batch)
    return checked


def finish(session, job, checked, dry_run=False, report=None, pause=None, offload=None):
    """After `check`: drop rows whose party card belongs to someone else, apply (unless dry-run),
    audit, and mark the job completed. Writes: part of the caller's transaction.
    `pause()` is called between the apply's chunks (yield to readers); `offload(fn, *args)` runs the
    driver's blocking calls (e.g. in a thread pool)."""
    accepted, rejected, errors, warnings = checked.accepted, checked.rejected, checked.errors, checked.warnings
    checker, first_import = checked.checker, checked.first_import
    job.processed_rows, job.total_rows = accepted + rejected, accepted + rejected
    driver = Driver(session, offload)
    taken = _cards_of_other_members(driver, job.id)
    for number, card_field in taken:
        rejected += 1
        accepted -= 1
        errors.append({"row": number, "field": card_field, "message": MESSAGES["party_card_taken"]})
    if taken:
        session.execute(
            delete(ImportRow).where(ImportRow.job_id == job.id, ImportRow.row_number.in_([n for n, _ in taken]))
        )
    job.accepted, job.rejected = accepted, rejected
    job.errors = sorted(errors, key=lambda e: e["row"])[:MAX_LISTED]
    job.warnings = warnings[:MAX_LISTED]
    if report:
        report(job)
    if not dry_run:
        job.status = "applying"
        if report:
            report(job)
        # into an empty database the counts are the checker's tallies; otherwise recount
        apply(session, job.id, checker.tallies if first_import and not taken else None, pause, offload)
    driver.run("DELETE FROM import_rows WHERE job_id = :job", {"job": job.id})
    # one audit entry for the whole file: who, which file (its digest), what it did
    session.add(
        AuditEntry(
            actor_member_id=job.started_by,
            action="import.dry_run" if dry_run else "import.apply",
            subject_type="import",
            before=None,
            after={
                "job_id": job.id,
                "file_sha256": job.file_sha256,
                "accepted": job.accepted,
                "rejected": job.rejected,
            },
        )
    )
    job.status = "completed"
    job.finished_at = utcnow()
    job.lease_owner = job.lease_expires_at = None
    return job


STAGED = (
    "job_id",
    "row_number",
    "citizen_id",
    "full_name",
    "search_name",
    "date_of_birth",
    "gender",
    "phone",
    "email",
    "party_card_number",
    "admission_date",
    "official_date",
    "organization_id",
    "organization_path",
    "status",
)


def stage_rows(session, batch, offload=None):
    """Straight to the driver: COPY on PostgreSQL, a prepared executemany on SQLite (the ORM's
    per-row work would cost more than the checks), run through `offload(fn, *args)` when given."""
    connection = session.connection()
    rows = [tuple(row[column] for column in STAGED) for row in batch]
    if connection.dialect.name == "postgresql":
        cursor = connection.connection.driver_connection.cursor()
        with cursor.copy(f"COPY import_rows ({', '.join(STAGED)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    placeholders = ", ".join("?" for _ in STAGED)
    (offload or _inline)(
        connection.connection.driver_connection.executemany,
        f"INSERT INTO import_rows ({', '.join(STAGED)}) VALUES ({placeholders})",
        [tuple(v.isoformat() if isinstance(v, date) else v for v in row) for row in rows],
    )


def _inline(function, *args):
    return function(*args)


class Driver:
    """The apply's long statements. On SQLite with `offload` (the service: eventlet's thread pool) they
    run on the driver's own connection, in the same transaction, off the event loop: the driver releases
    the GIL while SQLite works, so the process answers readers meanwhile. Otherwise through the session."""

    def __init__(self, session, offload=None):
        self.session = session
        connection = session.connection()
        self.dialect = connection.dialect
        self.offload = offload if connection.dialect.name == "sqlite" else None
        self.raw = connection.connection.driver_connection if self.offload else None

    def rows(self, statement, params=None):
        """The rows of `statement`: SQL text, or a Core statement with no user data in it."""
        if self.offload is None:
            return self.session.execute(
                text(statement) if isinstance(statement, str) else statement, params or {}
            ).all()
        if not isinstance(statement, str):
            statement = str(statement.compile(dialect=self.dialect, compile_kwargs={"literal_binds": True}))
        return self.offload(_fetch, self.raw, statement, params or {})

    def run(self, statement, params=None):
        if self.offload is None:
            self.session.execute(text(statement) if isinstance(statement, str) else statement, params or {})
        else:
            self.rows(statement, params)

    def commit(self):
        """Flush, then commit off the event loop: the commit writes the apply's pages to the WAL and may
        checkpoint it, the longest single stall of an import. The session's own commit then finds
        nothing left to do."""
        if self.offload is None:
            return
        self.session.flush()
        self.offload(self.raw.commit)


def _fetch(raw, sql, params):
    return raw.execute(sql, params).fetchall()


def forget_staged(session, job_id):
    session.execute(delete(ImportRow).where(ImportRow.job_id == job_id))


def _cards_of_other_members(driver, job_id):
    rows = driver.rows(
        "SELECT r.row_number FROM import_rows r JOIN members m ON m.party_card_number = r.party_card_number "
        "WHERE r.job_id = :job AND m.citizen_id <> r.citizen_id",
        {"job": job_id},
    )
    return [(row[0], "party_card_number") for row in rows]


APPLY_SQL = """
INSERT INTO members (citizen_id, full_name, search_name, date_of_birth, gender, phone, email, party_card_number,
                     admission_date, official_date, organization_id, organization_path, status, activated,
                     created_at, updated_at)
SELECT citizen_id, full_name, search_name, date_of_birth, gender, phone, email, party_card_number,
       admission_date, official_date, organization_id, organization_path, status, {false}, :now, :now
FROM import_rows WHERE job_id = :job AND row_number BETWEEN :first AND :last {where_true}
ON CONFLICT (citizen_id) DO UPDATE SET
  full_name = excluded.full_name, search_name = excluded.search_name, date_of_birth = excluded.date_of_birth,
  gender = excluded.gender, phone = excluded.phone, email = excluded.email,
  party_card_number = excluded.party_card_number, admission_date = excluded.admission_date,
  official_date = excluded.official_date, organization_id = excluded.organization_id,
  organization_path = excluded.organization_path, status = excluded.status, updated_at = excluded.updated_at
"""


def apply(session, job_id, tallies=None, pause=None, offload=None):
    """Staged rows → members, a chunk of rows per statement, then the counts. Part of the caller's
    transaction: readers see members as they were until it commits."""
    dialect = session.bind.dialect.name
    if dialect == "sqlite":
        # a national file touches every page of six indexes: keep them in memory, not in the WAL's churn
        session.execute(text("PRAGMA cache_size = -1048576"))
    # SQLite needs "WHERE true" to read ON CONFLICT after INSERT … SELECT
    sql = APPLY_SQL.format(
        false="false" if dialect == "postgresql" else "0", where_true="AND true" if dialect == "sqlite" else ""
    )
    now = utcnow() if dialect == "postgresql" else utcnow().replace(tzinfo=None)  # SQLite keeps naive UTC
    connection = session.connection()
    driver = Driver(session, offload)
    # into an empty table, building the search indexes once afterwards beats updating them row by row
    rebuilt = list(Member.__table__.indexes) if tallies is not None else []
    for index in rebuilt:
        index.drop(bind=connection)
    first, last = session.execute(
        select(func.min(ImportRow.row_number), func.max(ImportRow.row_number)).where(ImportRow.job_id == job_id)
    ).one()
    for start in range(first or 0, (last or -1) + 1, APPLY_CHUNK):
        params = {"job": job_id, "now": now, "first": start, "last": start + APPLY_CHUNK - 1}
        if driver.offload:  # the driver's own parameters: SQLite keeps naive UTC text
            params["now"] = now.strftime("%Y-%m-%d %H:%M:%S.%f")
        driver.run(sql, params)
        if pause:
            pause()
    for index in rebuilt:
        driver.run(CreateIndex(index))
        if pause:
            pause()
    if tallies is None:
        counts.rebuild(session, pause, rows=driver.rows)
    else:
        counts.replace_with(session, tallies)
    driver.run("ANALYZE members")  # the planner should know the table's new shape


def file_digest(content):
    return hashlib.sha256(content).hexdigest()


def new_job(content, dry_run, started_by=None, owner=None, lease=None):
    """A running job; with `owner`, holding the lease for `lease` seconds (see `hold`)."""
    return ImportJob(
        id=str(uuid.uuid4()),
        status="running",
        dry_run=dry_run,
        file_sha256=file_digest(content),
        started_by=started_by,
        total_rows=0,
        processed_rows=0,
        accepted=0,
        rejected=0,
        warnings=[],
        errors=[],
        lease_owner=owner,
        lease_expires_at=utcnow() + timedelta(seconds=lease or lease_seconds()) if owner else None,
    )


# --- the owner lease -------------------------------------------------------------------------------------------


class LeaseLost(Exception):
    """Another members process found this job's lease lapsed and marked it failed: stop, write nothing."""


class Interrupted(Exception):
    """The process is stopping: the job is marked failed now rather than left to its lease."""


def lease_seconds():
    return float(config.get("IMPORT_LEASE_SECONDS", 60))


def new_owner():
    """Who holds a lease: this host and process, unique per start."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def hold(session, job, owner, lease):
    """Record the job's progress and renew its lease, only while `owner` still holds it. Raises LeaseLost."""
    held = session.execute(
        update(ImportJob)
        .where(ImportJob.id == job.id, ImportJob.lease_owner == owner, ImportJob.status.in_(ACTIVE))
        .values(
            status=job.status,
            processed_rows=job.processed_rows,
            total_rows=job.total_rows,
            accepted=job.accepted,
            rejected=job.rejected,
            lease_expires_at=utcnow() + timedelta(seconds=lease),
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if held != 1:
        raise LeaseLost(job.id)


def give_up(session, job_id, owner, reason):
    """The owner marks its own job failed (an error, or the process stopping) and drops what it staged."""
    failed = session.execute(
        update(ImportJob)
        .where(ImportJob.id == job_id, ImportJob.lease_owner == owner, ImportJob.status.in_(ACTIVE))
        .values(status="failed", failure=reason, finished_at=utcnow(), lease_owner=None, lease_expires_at=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    forget_staged(session, job_id)
    return failed == 1


def expire_lapsed(session, now=None):
    """Mark failed every job whose lease lapsed (its process died); returns {job id: its upload reference}.

    Each job is taken by a conditional UPDATE on the lapsed lease, so of several replicas sweeping at once exactly
    one marks it; a job being applied has its row locked by the apply transaction and is skipped (PostgreSQL) or
    waited for (SQLite)."""
    now = now or utcnow()
    lapsed = (ImportJob.status.in_(ACTIVE), (ImportJob.lease_expires_at.is_(None)) | (ImportJob.lease_expires_at < now))
    candidates = session.execute(
        select(ImportJob.id, ImportJob.upload).where(*lapsed).with_for_update(skip_locked=True)
    ).all()
    marked = {}
    for job_id, upload in candidates:
        if (
            session.execute(
                update(ImportJob)
                .where(ImportJob.id == job_id, *lapsed)
                .values(status="failed", failure=INTERRUPTED, finished_at=now, lease_owner=None, lease_expires_at=None)
                .execution_options(synchronize_session=False)
            ).rowcount
            == 1
        ):
            forget_staged(session, job_id)
            marked[job_id] = upload
    return marked


def execute(
    database,
    job_id,
    content,
    filename="",
    dry_run=False,
    context=None,
    owner=None,
    lease=None,
    checkpoint=None,
    watch=None,
    offload=None,
):
    """Run a job already recorded as running under `owner`'s lease, in short transactions of `database`
    (a shared.db.Database): check and stage, record progress, then apply in one transaction.
    `checkpoint()` is called before each row and between the apply's chunks: it yields to other work,
    and raises `Interrupted` when the process stops; `watch(job)` sees each progress report;
    `offload(fn, *args)` runs the driver's long calls (the service: eventlet's thread pool).
    Returns the job; a failure is recorded on it."""
    lease = lease or lease_seconds()
    unit = database.unit_of_work("members.import", context)
    renewed = [time.monotonic()]

    def short(work):
        other = database.unit_of_work("members.import", context)
        try:
            with other.transaction() as session:
                return work(session)
        finally:
            other.close()

    def report(current):
        short(lambda session: hold(session, current, owner, lease))
        renewed[0] = time.monotonic()
        if watch:
            watch(current)

    def tick():
        if checkpoint:
            checkpoint()
        if time.monotonic() - renewed[0] > lease / 3:  # a slow file still renews its lease in time
            report(job)

    job = None
    try:
        job = unit.session.get(ImportJob, job_id)
        checked = check(
            unit.session,
            job,
            content,
            filename,
            report=report,
            stage=lambda batch: short(lambda session: stage_rows(session, batch, offload)),
            checkpoint=tick,
        )
        if not dry_run:
            job.status = "applying"
            report(job)
        with unit.transaction() as session:
            hold(session, job, owner, lease)  # locks the job's row until the apply commits
            finish(session, job, checked, dry_run, pause=checkpoint, offload=offload)
            if not dry_run and job.accepted:
                unit.publish("members.members_imported", imported(job))
            Driver(session, offload).commit()
        return job
    except LeaseLost:
        unit.session.rollback()
        return unit.session.get(ImportJob, job_id, populate_existing=True)
    except BaseException as exc:  # an error, the process stopping (Interrupted, GreenletExit), Ctrl-C
        unit.session.rollback()
        reason = (
            FAILED.format(cause=type(exc).__name__)
            if isinstance(exc, Exception) and not isinstance(exc, Interrupted)
            else INTERRUPTED
        )
        short(lambda session: give_up(session, job_id, owner, reason))
        if not isinstance(exc, Exception):
            raise
        return unit.session.get(ImportJob, job_id, populate_existing=True)
    finally:
        unit.close()


def imported(job):
    """`members.members_imported` of a finished job: what others re-read, the members it wrote (their `updated_at`
    lies between the job's start and its end). Both bounds: the re-read of an import handled after later ones
    would otherwise read their members too, each service projecting a run of n files ~n²/2 times."""
    return {
        "job_id": job.id,
        "accepted": job.accepted,
        "updated_since": aware(job.started_at).isoformat(),
        "updated_until": aware(job.finished_at).isoformat(),
    }


def check_importer(actor):
    """System administrators import (decided before the gateway reads a byte of the file); everyone else is refused."""
    if not actor.is_admin:
        raise Forbidden()


def start(uow, member_id, reference, dry_run, owner, lease):
    """A job for the upload `reference` names (shared/uploads.py), held by `owner`: (job, the file's content).
    The upload is deleted at once when the start is refused; otherwise once the job ends. A command delivered
    again (its first replica died before acknowledging it) answers the job it started: (that job, None)."""
    uploads.path_of(reference)
    uploads.sweep()
    try:
        actor = load_actor(uow.session, member_id)
        check_importer(actor)
        started = uow.session.scalar(select(ImportJob).where(ImportJob.upload == reference))
        if started is not None:
            return started, None
        content = uploads.read(reference)
        job = new_job(content, dry_run, started_by=actor.member.id, owner=owner, lease=lease)
        job.upload = reference
        uow.session.add(job)
    except BaseException:
        uploads.discard(reference)
        raise
    return job, content


def status(session, actor, job_id):
    check_importer(actor)
    job = session.get(ImportJob, str(job_id))
    if job is None:
        raise NotFound()
    return job_json(job)


def job_json(job):
    total = job.total_rows or 0
    return {
        "id": job.id,
        "status": job.status,
        "dry_run": job.dry_run,
        "progress": round(job.processed_rows / total, 4) if total else (1.0 if job.status == "completed" else 0.0),
        "processed_rows": job.processed_rows,
        "total_rows": total,
        "accepted": job.accepted,
        "rejected": job.rejected,
        "warnings": job.warnings,
        "errors": job.errors,
        "failure": job.failure,
    }


def main(argv=None):
    """The command line: an import with a progress bar."""
    import argparse

    from shared.db import standalone_unit
    from services.members.models import Base

    parser = argparse.ArgumentParser(description="Nhập dữ liệu đảng viên / Import party members")
    parser.add_argument("file")
    parser.add_argument("--dry-run", action="store_true", help="chỉ kiểm tra / validate only")
    args = parser.parse_args(argv)
    config.load("members")
    with open(args.file, "rb") as handle:
        content = handle.read()
    uow, database = standalone_unit(Base.metadata, "members", "members.import")
    owner, lease = new_owner(), lease_seconds()
    job = new_job(content, args.dry_run, owner=owner, lease=lease)
    started = datetime.now(UTC)

    def report(current):
        total = current.total_rows or 1
        done = min(current.processed_rows / total, 1.0)
        bar = "█" * int(done * 30) + "·" * (30 - int(done * 30))
        rate = current.processed_rows / max((datetime.now(UTC) - started).total_seconds(), 0.001)
        sys.stderr.write(
            f"\r{bar} {done:6.1%}  {current.processed_rows:,} dòng/rows  {rate:,.0f}/s  {current.status:9}"
        )
        sys.stderr.flush()

    try:
        with uow.transaction() as session:
            session.add(job)
        job = execute(database, job.id, content, args.file, args.dry_run, owner=owner, lease=lease, watch=report)
        if job.status == "completed":
            report(job)
    finally:
        uow.close()
        database.engine.dispose()
    sys.stderr.write("\n")
    if job.status != "completed":
        print(f"Thất bại / failed: {job.failure}")
        return 1
    print(
        f"{'Kiểm tra' if args.dry_run else 'Nhập'} xong / done: {job.accepted:,} nhận / accepted, "
        f"{job.rejected:,} loại / rejected"
    )
    for error in job.errors[:20]:
        print(f"  dòng / row {error['row']}: {error['field']}: {error['message']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
