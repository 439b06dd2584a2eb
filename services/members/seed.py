"""Demo data for the embedded default (never in production): `python -m services.members.seed`.

The tree: the centre, the 34 provincial-level committees after the 2025
merger, the Party Committee of the Central Party Agencies, a few grassroots
committees with two branches each, and members with Vietnamese names. The
four pilot committees start in `pilot`.
"""

import csv
import sys
from datetime import date
from pathlib import Path

from sqlalchemy import func, select

from shared import seeding
from shared.demo import ACTIVATED_DEMO_ACCOUNTS
from services.members import domain
from services.members.models import Base, Organization

PROVINCES_CSV = Path(__file__).resolve().parent / "data" / "provinces-2025.csv"
PILOTS = {"Đồng Tháp", "Lạng Sơn", "Thái Nguyên"}

# (province, grassroots committee, branches)
GRASSROOTS = [
    ("Đồng Tháp", "Đảng bộ phường Cao Lãnh", ["Chi bộ Khu phố 1", "Chi bộ Khu phố 2"]),
    ("Lạng Sơn", "Đảng bộ phường Kỳ Lừa", ["Chi bộ Khối 1", "Chi bộ Khối 2"]),
    ("Thái Nguyên", "Đảng bộ phường Phan Đình Phùng", ["Chi bộ Tổ dân phố 3", "Chi bộ Tổ dân phố 4"]),
    ("Hà Nội", "Đảng bộ phường Ba Đình", ["Chi bộ Khu dân cư số 1", "Chi bộ Khu dân cư số 2"]),
    ("CQĐ-TW", "Đảng bộ Văn phòng Trung ương Đảng", ["Chi bộ Vụ Tổng hợp", "Chi bộ Vụ Hành chính"]),
]

# The demo accounts of the README: (citizen id, name, gender, born, status, phone, role)
DEMO_MEMBERS = [
    ("001000000000", "Trần Quốc Bảo", "male", date(1975, 3, 12), "official", "+84901000000", "system_administrator"),
    ("001000000001", "Nguyễn Thị Lan", "female", date(1978, 9, 2), "official", "+84901000001", "secretary"),
    ("001000000002", "Lê Văn Hùng", "male", date(1985, 5, 19), "official", "+84901000002", None),
    ("001000000003", "Phạm Thị Mai", "female", date(1990, 11, 23), "official", "+84912345678", None),
    ("001000000004", "Hoàng Văn Nam", "male", date(1948, 1, 7), "official", None, None),
]
OTHER_NAMES = [
    "Võ Thị Hồng",
    "Đặng Văn Minh",
    "Bùi Thị Thu",
    "Đỗ Văn Tuấn",
    "Ngô Thị Hạnh",
    "Dương Văn Khánh",
    "Lý Thị Ngọc",
    "Phan Văn Đức",
    "Vũ Thị Hà",
    "Trịnh Văn Sơn",
]


def province_rows():
    with open(PROVINCES_CSV, encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def committee_name(row):
    if row["name"].startswith("Thành phố"):
        return f"Đảng bộ {row['name']}"
    return f"Đảng bộ {'thành phố' if row['kind'] == 'city' else 'tỉnh'} {row['name']}"


def seed(uow):
    session = uow.session
    if session.scalar(select(func.count()).select_from(Organization)):
        return False
    centre = domain.create_organization(session, "TW", "Đảng Cộng sản Việt Nam", "central")
    committees = {}
    for number, row in enumerate(province_rows(), start=1):
        committees[row["name"]] = domain.create_organization(
            session, f"P{number:02d}", committee_name(row), "provincial", centre
        )
    committees["CQĐ-TW"] = domain.create_organization(
        session, "CQD-TW", "Đảng bộ các cơ quan Đảng Trung ương", "provincial", centre
    )
    for name in PILOTS | {"CQĐ-TW"}:
        domain.set_rollout(uow, committees[name], "pilot")

    branches = []
    for number, (province, grassroots_name, branch_names) in enumerate(GRASSROOTS, start=1):
        grassroots = domain.create_organization(
            session, f"G{number:03d}", grassroots_name, "grassroots", committees[province]
        )
        for index, branch_name in enumerate(branch_names, start=1):
            branches.append(
                domain.create_organization(session, f"G{number:03d}-B{index}", branch_name, "branch", grassroots)
            )

    demo_branch = branches[0]
    for citizen_id, name, gender, born, status, phone, role in DEMO_MEMBERS:
        member = domain.add_member(
            uow,
            {
                "citizen_id": citizen_id,
                "full_name": name,
                "gender": gender,
                "date_of_birth": born,
                "status": status,
                "organization_id": demo_branch.id,
                "phone": phone,
                "party_card_number": f"93{citizen_id[-8:]}",
                "admission_date": date(born.year + 25, 5, 19),
                "official_date": date(born.year + 26, 5, 19),
                "activated": citizen_id in ACTIVATED_DEMO_ACCOUNTS,
            },
        )
        if role == "system_administrator":
            domain.record_position(uow, member, centre, role)
        elif role:
            domain.record_position(uow, member, demo_branch, role)

    for index, name in enumerate(OTHER_NAMES):
        branch = branches[1 + index % (len(branches) - 1)]
        member = domain.add_member(
            uow,
            {
                "citizen_id": f"0790{index:08d}",
                "full_name": name,
                "gender": "female" if " Thị " in name else "male",
                "date_of_birth": date(1960 + index * 3, 1 + index, 10),
                "status": "official" if index % 3 else "probationary",
                "organization_id": branch.id,
                "phone": f"+8498{index:07d}",
                "party_card_number": None,
                "admission_date": date(2000 + index, 2, 3),
                "official_date": None if index % 3 == 0 else date(2001 + index, 2, 3),
            },
        )
        if index == 0:  # a committee member of the demo grassroots committee, above the demo branch
            domain.record_position(uow, member, session.get(Organization, demo_branch.parent_id), "committee_member")
    return True


def main():
    return seeding.run("members", Base.metadata, seed)


if __name__ == "__main__":
    sys.exit(main())
