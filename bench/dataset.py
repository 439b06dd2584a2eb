"""A national-scale dataset: the organisation tree and a member export CSV.

34 provinces, ~3,300 grassroots committees, ~100,000 branches, and N members
(5.6 million by default) with Vietnamese names drawn from realistic surname
frequencies. Deterministic for a given seed.
"""

import csv
import random
from datetime import date, timedelta

from sqlalchemy import insert

from services.members.importing import COLUMNS
from services.members.models import Organization

SURNAMES = [
    ("Nguyễn", 38),
    ("Trần", 11),
    ("Lê", 9.5),
    ("Phạm", 7),
    ("Hoàng", 4),
    ("Huỳnh", 1.5),
    ("Phan", 4.5),
    ("Vũ", 2.5),
    ("Võ", 1.5),
    ("Đặng", 2.1),
    ("Bùi", 2),
    ("Đỗ", 1.4),
    ("Hồ", 1.3),
    ("Ngô", 1.3),
    ("Dương", 1),
    ("Lý", 0.5),
    ("Đinh", 0.8),
    ("Trương", 0.8),
    ("Lương", 0.6),
    ("Mai", 0.5),
]
MIDDLE_MALE = ["Văn", "Hữu", "Đức", "Minh", "Quang", "Thanh", "Công", "Xuân", "Ngọc", "Trung"]
MIDDLE_FEMALE = ["Thị", "Thị", "Thị", "Ngọc", "Thu", "Thanh", "Minh", "Hồng", "Kim", "Phương"]
GIVEN_MALE = [
    "An",
    "Bình",
    "Cường",
    "Dũng",
    "Hải",
    "Hùng",
    "Huy",
    "Khánh",
    "Long",
    "Minh",
    "Nam",
    "Phong",
    "Quân",
    "Sơn",
    "Tâm",
    "Thắng",
    "Thành",
    "Trung",
    "Tuấn",
    "Việt",
    "Vinh",
    "Đức",
    "Hiếu",
    "Toàn",
]
GIVEN_FEMALE = [
    "Anh",
    "Chi",
    "Dung",
    "Giang",
    "Hà",
    "Hạnh",
    "Hoa",
    "Hương",
    "Huyền",
    "Lan",
    "Linh",
    "Mai",
    "Nga",
    "Ngọc",
    "Nhung",
    "Phương",
    "Quỳnh",
    "Thảo",
    "Thu",
    "Trang",
    "Vân",
    "Yến",
    "Hằng",
    "Loan",
]


def build_tree(session, provinces=34, grassroots=3300, branches=100_000):
    """Organisations straight into members' database; returns branch codes, by province id."""
    rows = [
        {
            "id": 1,
            "code": "TW",
            "name": "Đảng Cộng sản Việt Nam",
            "level": "central",
            "parent_id": None,
            "path": "/1/",
            "rollout": "live",
        }
    ]
    next_id = 2
    branch_codes = {}
    per_province = grassroots // provinces
    per_grassroots = branches // (per_province * provinces)
    for p in range(1, provinces + 1):
        pid, next_id = next_id, next_id + 1
        rows.append(
            {
                "id": pid,
                "code": f"P{p:02d}",
                "name": f"Đảng bộ tỉnh {p:02d}",
                "level": "provincial",
                "parent_id": 1,
                "path": f"/1/{pid}/",
                "rollout": "pilot",
            }
        )
        branch_codes[pid] = []
        for g in range(1, per_province + 1):
            gid, next_id = next_id, next_id + 1
            rows.append(
                {
                    "id": gid,
                    "code": f"P{p:02d}-G{g:03d}",
                    "name": f"Đảng bộ xã {p:02d}-{g:03d}",
                    "level": "grassroots",
                    "parent_id": pid,
                    "path": f"/1/{pid}/{gid}/",
                    "rollout": "pilot",
                }
            )
            for b in range(1, per_grassroots + 1):
                bid, next_id = next_id, next_id + 1
                code = f"P{p:02d}-G{g:03d}-B{b:02d}"
                rows.append(
                    {
                        "id": bid,
                        "code": code,
                        "name": f"Chi bộ {code}",
                        "level": "branch",
                        "parent_id": gid,
                        "path": f"/1/{pid}/{gid}/{bid}/",
                        "rollout": "pilot",
                    }
                )
                branch_codes[pid].append(code)
    for start in range(0, len(rows), 20_000):
        session.execute(insert(Organization), rows[start : start + 20_000])
    return branch_codes


def write_members_csv(path, branch_codes, count, seed=2026):
    """`count` members spread over the branches (province sizes vary ×4 like real ones)."""
    rng = random.Random(seed)
    surnames = [s for s, _ in SURNAMES]
    weights = [w for _, w in SURNAMES]
    provinces = list(branch_codes)
    province_weights = [1 + 3 * rng.random() for _ in provinces]
    all_branches = [(pid, code) for pid in provinces for code in branch_codes[pid]]
    branch_weights = [province_weights[provinces.index(pid)] for pid, _ in all_branches]
    chosen = rng.choices(all_branches, weights=branch_weights, k=count)
    today = date(2026, 11, 1)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(COLUMNS)  # the export's header, as members reads it
        surname_draws = rng.choices(surnames, weights=weights, k=count)
        for n in range(count):
            female = rng.random() < 0.38
            born = date(1940, 1, 1) + timedelta(days=rng.randrange(0, 66 * 365))
            admitted = born + timedelta(days=366 * 18 + rng.randrange(0, 365 * 30))
            if admitted > today:
                admitted = today - timedelta(days=rng.randrange(30, 700))
                born = admitted - timedelta(days=365 * 19)
            official = admitted + timedelta(days=365) if rng.random() < 0.9 else None
            name = " ".join(
                (
                    surname_draws[n],
                    rng.choice(MIDDLE_FEMALE if female else MIDDLE_MALE),
                    rng.choice(GIVEN_FEMALE if female else GIVEN_MALE),
                )
            )
            century_gender = (0 if born.year < 2000 else 2) + (1 if female else 0)
            # unique: the place code carries the millions, the last six digits the rest
            citizen_id = f"{1 + n // 1_000_000:03d}{century_gender}{born.year % 100:02d}{n % 1_000_000:06d}"
            out.writerow(
                [
                    citizen_id,
                    name,
                    born.isoformat(),
                    "Nữ" if female else "Nam",
                    f"09{rng.randrange(10**7, 10**8)}" if rng.random() < 0.8 else "",
                    "",
                    f"TD{n:09d}",
                    admitted.isoformat(),
                    official.isoformat() if official else "",
                    chosen[n][1],
                    "chính thức" if official else "dự bị",
                ]
            )
