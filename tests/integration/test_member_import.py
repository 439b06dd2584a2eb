"""Importing the Party member database export into members' real database (SQLite, migrations)."""

import io
import unicodedata

import pytest
from sqlalchemy import func, inspect, select

from services.members import counts, importing
from services.members.models import Member, Organization

HEADER = (
    "citizen_id,full_name,date_of_birth,gender,phone,email,party_card_number,admission_date,"
    "official_date,organization_code,status"
)


@pytest.fixture
def uow(members_uow):
    return members_uow


def run_import(uow, content, filename="members.csv", dry_run=False, offload=None):
    job = importing.new_job(content, dry_run)
    with uow.transaction() as session:
        session.add(job)
        importing.run(session, job, content, filename, dry_run, offload=offload)
        if offload:
            importing.Driver(session, offload).commit()
    return importing.job_json(job)


def on_the_driver(function, *args):
    """The service's offload without a thread pool: the same path through the driver's own connection."""
    return function(*args)


def csv_bytes(*rows, bom=False):
    text = "\n".join((HEADER,) + rows) + "\n"
    return ("\ufeff" if bom else "").encode() + text.encode("utf-8")


def member(session, citizen_id):
    return session.scalar(select(Member).where(Member.citizen_id == citizen_id))


GOOD = [
    "001085000101,Nguyễn Văn An,1985-03-04,Nam,0912 345 601,an@example.vn,PC101,2010-05-19,2011-05-19,G001-B1,chính thức",  # noqa: E501  a CSV row is kept whole, as in a file
    "001190000102,Trần Thị Bình,21/07/1990,Nữ,+84 912 345 602,,PC102,03/02/2015,,G001-B2,dự bị",
    "001080000103,Lê Văn Cường,1980-01-01,male,,,,2005-01-01,2006-01-01,G002-B1,official",
]


def test_a_clean_file_with_a_bom_and_both_date_formats_is_imported(uow):
    job = run_import(uow, csv_bytes(*GOOD, bom=True))
    assert (job["status"], job["accepted"], job["rejected"], job["progress"]) == ("completed", 3, 0, 1.0)
    binh = member(uow.session, "001190000102")
    assert binh.date_of_birth.isoformat() == "1990-07-21" and binh.admission_date.isoformat() == "2015-02-03"
    assert (binh.gender, binh.status, binh.phone) == ("female", "probationary", "+84912345602")
    assert member(uow.session, "001080000103").phone is None


def test_nfd_names_are_stored_nfc_and_found_without_diacritics(uow):
    nfd = unicodedata.normalize("NFD", "  Phạm   Thị Thuỳ  ")
    run_import(uow, csv_bytes(f"001195000104,{nfd},1995-06-06,Nữ,,,,2016-01-01,,G001-B1,dự bị"))
    stored = member(uow.session, "001195000104")
    assert stored.full_name == unicodedata.normalize("NFC", "Phạm Thị Thuỳ")
    assert stored.search_name == "pham thi thuy"


@pytest.mark.parametrize(
    "row, field",
    [
        ("12345,Tên,1980-01-01,Nam,,,,2005-01-01,,G001-B1,dự bị", "citizen_id"),
        (",Tên,1980-01-01,Nam,,,,2005-01-01,,G001-B1,dự bị", "citizen_id"),
        ("001080000201,,1980-01-01,Nam,,,,2005-01-01,,G001-B1,dự bị", "full_name"),
        ("001080000202,Tên,1980-13-01,Nam,,,,2005-01-01,,G001-B1,dự bị", "date_of_birth"),
        ("001080000203,Tên,1980-01-01,Nam,12345,,,2005-01-01,,G001-B1,dự bị", "phone"),
        ("001080000204,Tên,1980-01-01,Nam,,,,2005-01-01,,NOPE,dự bị", "organization_code"),
        ("001080000205,Tên,1980-01-01,Nam,,,,2005-01-01,,G001-B1,quần chúng", "status"),
        ("001080000206,Tên,1980-01-01,Nam,,,,2005-01-01,2004-01-01,G001-B1,chính thức", "official_date"),
        ("001080000207,Tên,1990-01-01,Nam,,,,2005-01-01,,G001-B1,dự bị", "admission_date"),
        ("００１０８００００２０８,Tên,1980-01-01,Nam,,,,2005-01-01,,G001-B1,dự bị", "citizen_id"),  # full-width
        ("٠٠١٠٨٠٠٠٠٢٠٩,Tên,1980-01-01,Nam,,,,2005-01-01,,G001-B1,dự bị", "citizen_id"),  # Arabic-Indic
        ("00108000021²,Tên,1980-01-01,Nam,,,,2005-01-01,,G001-B1,dự bị", "citizen_id"),
    ],
)
def test_each_rejection_reason_names_the_row_and_field(uow, row, field):
    job = run_import(uow, csv_bytes(GOOD[0], row))
    assert (job["accepted"], job["rejected"]) == (1, 1)
    assert job["errors"][0]["row"] == 3 and job["errors"][0]["field"] == field and job["errors"][0]["message"]


def test_a_citizen_id_seen_earlier_in_the_file_rejects_the_later_row(uow):
    job = run_import(uow, csv_bytes(GOOD[0], GOOD[0].replace("Nguyễn Văn An", "Nguyễn Văn Ân")))
    assert job["errors"] == [
        {"row": 3, "field": "citizen_id", "message": importing.MESSAGES["duplicate"].format(row=2)}
    ]
    assert member(uow.session, "001085000101").full_name == "Nguyễn Văn An"


def test_a_citizen_id_cell_is_trimmed_to_its_twelve_ascii_digits(uow):
    job = run_import(uow, csv_bytes('" 001080000211\n",Tên,1980-01-01,Nam,,,,2005-01-01,,G001-B1,dự bị'))
    assert job["accepted"] == 1 and member(uow.session, "001080000211") is not None


def test_a_party_card_number_of_another_member_rejects_the_row_never_the_file(uow):
    run_import(uow, csv_bytes(*GOOD))
    job = run_import(
        uow,
        csv_bytes(
            GOOD[0].replace("PC101", "PC102"),  # An takes Bình's card while Bình takes An's
            GOOD[1].replace("PC102", "PC101"),
            "001080000212,Tên,1980-01-01,Nam,,,PC101,2005-01-01,,G001-B1,dự bị",
        ),
    )
    assert job["status"] == "completed" and job["accepted"] == 0
    assert {(e["row"], e["field"]) for e in job["errors"]} == {
        (2, "party_card_number"),
        (3, "party_card_number"),
        (4, "party_card_number"),
    }
    assert member(uow.session, "001085000101").party_card_number == "PC101"


def test_oddities_are_warnings_not_rejections(uow):
    job = run_import(
        uow,
        csv_bytes(
            "001080000301,Vũ Văn Dũng,1980-01-01,Nam,,,,2020-01-01,,G001-B1,dự bị",  # probationary > 1 year
            "001099000302,Vũ Văn Em,1980-01-01,Nam,,,,2005-01-01,2006-01-01,G001-B1,chính thức",  # year disagrees
            "001080000303,Vũ Văn Dũng,1980-01-01,Nam,,,,2005-01-01,2006-01-01,G001-B2,chính thức",  # same person?
        ),
    )
    assert (job["accepted"], job["rejected"]) == (3, 0)
    fields = [(w["row"], w["message"]) for w in job["warnings"]]
    assert (2, importing.WARNINGS["long_probation"]) in fields
    assert (3, importing.WARNINGS["citizen_id_birth"]) in fields
    assert (4, importing.WARNINGS["likely_duplicate"].format(other="001080000301")) in fields


def test_an_existing_citizen_id_updates_the_member_and_a_reimport_changes_nothing(uow):
    first = run_import(uow, csv_bytes(*GOOD))
    total = uow.session.scalar(select(func.count()).select_from(Member))
    again = run_import(uow, csv_bytes(*GOOD))
    assert (again["accepted"], again["rejected"]) == (first["accepted"], first["rejected"])
    assert uow.session.scalar(select(func.count()).select_from(Member)) == total
    moved = GOOD[0].replace("G001-B1", "G002-B2").replace("0912 345 601", "0987 000 111")
    run_import(uow, csv_bytes(moved))
    an = member(uow.session, "001085000101")
    branch = uow.session.scalar(select(Organization).where(Organization.code == "G002-B2"))
    assert (an.organization_id, an.organization_path, an.phone) == (branch.id, branch.path, "+84987000111")


def test_a_dry_run_checks_without_writing(uow):
    before = uow.session.scalar(select(func.count()).select_from(Member))
    job = run_import(uow, csv_bytes(*GOOD, "bad,,,,,,,,,,"), dry_run=True)
    assert (job["status"], job["accepted"], job["rejected"], job["dry_run"]) == ("completed", 3, 1, True)
    assert uow.session.scalar(select(func.count()).select_from(Member)) == before


def test_a_crash_before_the_end_leaves_members_as_they_were(uow, monkeypatch):
    before = uow.session.scalar(select(func.count()).select_from(Member))

    def power_cut(*args):
        raise RuntimeError("power cut")

    monkeypatch.setattr(importing, "apply", power_cut)
    with pytest.raises(RuntimeError):
        run_import(uow, csv_bytes(*GOOD))
    assert uow.session.scalar(select(func.count()).select_from(Member)) == before


def test_xlsx_files_are_read_too(uow):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(HEADER.split(","))
    sheet.append(
        [
            "001085000401",
            "Đinh Văn Giang",
            "04/03/1985",
            "Nam",
            "0912345699",
            "",
            "",
            "2010-05-19",
            "2011-05-19",
            "G003-B1",
            "chính thức",
        ]
    )
    buffer = io.BytesIO()
    book.save(buffer)
    job = run_import(uow, buffer.getvalue(), "members.xlsx")
    assert (job["accepted"], job["rejected"]) == (1, 0)
    assert member(uow.session, "001085000401").date_of_birth.isoformat() == "1985-03-04"


def test_counts_follow_an_import(uow):
    run_import(uow, csv_bytes(*GOOD))
    centre = counts.stats(uow.session, uow.session.get(Organization, 1))
    assert centre["total"] == 18 and centre["by_status"]["probationary"] >= 1
    assert sum(centre["by_gender"].values()) == centre["in_party"]


@pytest.mark.parametrize("offload", [None, on_the_driver], ids=["session", "driver"])
def test_an_import_through_the_driver_matches_one_through_the_session(uow, offload):
    """The service runs the apply's long statements on SQLite's own connection, off the event loop: same
    members, same counts, one commit."""
    from services.members.models import SubtreeCount

    run_import(uow, csv_bytes(*GOOD), offload=offload)
    session = uow.session
    tallied = sorted((r.organization_id, r.dimension, r.value, r.count) for r in session.scalars(select(SubtreeCount)))
    with uow.transaction():
        counts.rebuild(session)
    assert tallied == sorted(
        (r.organization_id, r.dimension, r.value, r.count) for r in session.scalars(select(SubtreeCount))
    )
    assert member(session, "001190000102").full_name == "Trần Thị Bình"
    assert session.scalar(select(func.count()).select_from(importing.ImportRow)) == 0  # staging forgotten


@pytest.mark.parametrize("offload", [None, on_the_driver], ids=["session", "driver"])
def test_a_first_import_counts_as_it_checks_and_agrees_with_a_recount(uow, offload):
    from sqlalchemy import delete

    from services.members.models import Position, SubtreeCount

    session = uow.session
    with uow.transaction():
        session.execute(delete(Position))
        session.execute(delete(Member))
        session.execute(delete(SubtreeCount))
    run_import(uow, csv_bytes(*GOOD), offload=offload)

    def figures():
        return sorted((r.organization_id, r.dimension, r.value, r.count) for r in session.scalars(select(SubtreeCount)))

    tallied = figures()
    with uow.transaction():
        counts.rebuild(session)
    assert tallied == figures() and tallied
    # the search indexes, dropped for the first import, are back
    built = {index["name"] for index in inspect(session.connection()).get_indexes("members")}
    assert {index.name for index in Member.__table__.indexes} <= built


def test_the_command_line_shows_progress_and_a_summary(uow, database_settings, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("DATA_DIR", database_settings["DATA_DIR"])  # the CLI reads members' own config file
    path = tmp_path / "export.csv"
    path.write_bytes(csv_bytes(*GOOD, "bad,,,,,,,,,,"))
    assert importing.main([str(path), "--dry-run"]) == 0
    out = capsys.readouterr()
    assert "3 nhận / accepted, 1 loại / rejected" in out.out
    assert "100.0%" in out.err and "rows" in out.err


def test_a_lapsed_lease_is_marked_failed_once_among_replicas_and_a_held_one_is_left(uow):
    from datetime import timedelta

    from shared.db import utcnow
    from services.members.models import ImportJob, ImportRow

    dead = importing.new_job(csv_bytes(*GOOD), False, owner="host:1:dead", lease=60)
    alive = importing.new_job(csv_bytes(*GOOD), False, owner="host:2:alive", lease=60)
    with uow.transaction() as session:
        session.add_all([dead, alive])
        session.flush()
        dead.lease_expires_at = utcnow() - timedelta(seconds=1)  # its process died a while ago
        importing.stage_rows(session, [{**row, "job_id": dead.id} for row in _checked_rows()])
    # two replicas sweep, one after the other: the first marks it, the second finds nothing to do
    with uow.transaction() as session:
        assert list(importing.expire_lapsed(session)) == [dead.id]
    with uow.transaction() as session:
        assert importing.expire_lapsed(session) == {}
    stored = {job.id: job for job in uow.session.scalars(select(ImportJob).execution_options(populate_existing=True))}
    assert stored[dead.id].status == "failed" and "interrupted" in stored[dead.id].failure
    assert stored[alive.id].status == "running"
    assert uow.session.scalar(select(func.count()).select_from(ImportRow)) == 0  # nothing of it left staged
    # the owner that comes back finds its lease gone and writes nothing more
    with pytest.raises(importing.LeaseLost):
        with uow.transaction() as session:
            importing.hold(session, stored[dead.id], "host:1:dead", 60)


def _checked_rows():
    organizations = {"G001-B1": (1, "/1/")}
    checker = importing.Checker(organizations)
    return [
        checker.check(
            2,
            {
                "citizen_id": "001085000901",
                "full_name": "Vũ Văn Bền",
                "organization_code": "G001-B1",
                "status": "official",
            },
        )[0]
    ]


def test_the_command_line_says_why_an_import_failed(uow, database_settings, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("DATA_DIR", database_settings["DATA_DIR"])

    def power_cut(*args):
        raise RuntimeError("power cut")

    monkeypatch.setattr(importing, "apply", power_cut)
    path = tmp_path / "export.csv"
    path.write_bytes(csv_bytes(*GOOD))
    assert importing.main([str(path)]) == 1
    out = capsys.readouterr().out
    assert "Thất bại / failed" in out and "nothing was applied" in out
    from services.members.models import ImportJob

    assert [job.status for job in uow.session.scalars(select(ImportJob)).all()] == ["failed"]


def test_the_re_read_an_import_asks_for_holds_its_own_members_not_a_later_imports(uow):
    """Every service re-reads an import's members when it hears `members.members_imported`. Bounded below only, the
    re-read of the first of 20 files, handled after the others were applied, read all 20 files' members, the second
    19…: 20,000 members imported in files of 1,000 were projected 210,000 times in each service (content alone spent
    13.5 ms of CPU per member in bench.checkin's setup)."""
    from services.members import domain

    first = run_import(uow, csv_bytes(*GOOD[:2]))
    run_import(uow, csv_bytes(GOOD[2]))
    window = importing.imported(uow.session.get(importing.ImportJob, first["id"]))
    assert window["accepted"] == 2
    page = domain.snapshots_after(uow.session, 0, 100, window["updated_since"], window["updated_until"])
    assert sorted(snapshot["citizen_id"] for snapshot in page) == ["001085000101", "001190000102"]
