"""Changes to members (services/members/changes.py): who may change whom, what a member may change alone and
what waits for their branch, transfers, the digital file and positions — each write audited and published."""

from datetime import date
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from shared.errors import Conflict, Forbidden, NotFound, ValidationError
from services.gateway.versions import ONE_MEMBER
from services.members import administration, changes, counts, domain, privacy
from services.members.domain import FROM_ABOVE, NOT_ABOUT_ONESELF
from services.members.models import ChangeRequest
from tests.support.worlds import published


@pytest.fixture
def branch(members_world):
    """A branch with its secretary, deputy and a member; a sibling branch with its secretary; the secretary and
    a committee member of the grassroots committee above both; a system administrator; a far branch."""
    w = members_world
    centre, province, grassroots, home = w.chain()
    sibling = w.organization("branch", grassroots)
    far = w.organization("branch", w.organization("grassroots", w.organization("provincial", centre)))
    return SimpleNamespace(
        world=w,
        uow=w.uow,
        centre=centre,
        grassroots=grassroots,
        home=home,
        sibling=sibling,
        far=far,
        admin=w.member(home, ("system_administrator", centre)),
        secretary=w.member(home, ("secretary", home)),
        deputy=w.member(home, ("deputy_secretary", home)),
        committee=w.member(sibling, ("committee_member", grassroots)),
        above=w.member(sibling, ("secretary", grassroots)),
        sibling_secretary=w.member(sibling, ("secretary", sibling)),
        far_secretary=w.member(far, ("secretary", far)),
        member=w.member(home, full_name="Lê Văn Hùng"),
    )


def run(b, action, who, *args):
    """`action` by `who` in one transaction, as an RPC runs it."""
    with b.uow.transaction():
        return action(b.uow, b.world.actor(getattr(b, who)), *args)


def edit(b, who, whom, fields):
    """`who` changes `whom`'s record as an officer does (PATCH /members/{id})."""
    return run(b, changes.update_member, who, getattr(b, whom).id, fields)


def actions(b, member):
    return [entry.action for entry in b.world.audit(member)]


def test_an_officers_change_is_applied_audited_and_published(branch):
    changed = edit(branch, "secretary", "member", {"full_name": "  Lê   Văn Hưng ", "phone": "+84951111111"})
    assert changed.full_name == "Lê Văn Hưng" and changed.search_name == "le van hung"
    entry = branch.world.audit(branch.member)[-1]
    assert (entry.action, entry.actor_member_id) == ("member.update", branch.secretary.id)
    assert (entry.before["full_name"], entry.after["full_name"]) == ("Lê Văn Hùng", "Lê Văn Hưng")
    assert entry.correlation_id == "test-correlation"
    assert published(branch.uow, "members.member_updated")[-1]["phone"] == "+84951111111"


@pytest.mark.parametrize(
    "who, whom, refused",
    [
        ("secretary", "member", None),
        ("committee", "deputy", None),  # the committee above decides about the branch's officers
        ("admin", "secretary", None),
        ("secretary", "secretary", Forbidden),  # nobody decides about themselves
        ("secretary", "deputy", Forbidden),  # nor about a fellow officer
        ("secretary", "admin", Forbidden),  # an administrator's record is for another administrator
        ("sibling_secretary", "member", NotFound),  # outside their branch: as if there were nobody
        ("deputy", "committee", NotFound),  # nor upwards
    ],
)
def test_who_may_change_whose_record(branch, who, whom, refused):
    target = getattr(branch, whom)
    if refused is None:
        assert edit(branch, who, whom, {"gender": "male"}).gender == "male"
        return
    with pytest.raises(refused):
        edit(branch, who, whom, {"gender": "male"})
    assert branch.world.reload(target).gender == "female"
    assert actions(branch, target) == ["member.create"]


def test_refusals_say_why(branch):
    with pytest.raises(Forbidden) as own:
        edit(branch, "secretary", "secretary", {"gender": "male"})
    with pytest.raises(Forbidden) as peer:
        edit(branch, "secretary", "deputy", {"gender": "male"})
    assert (own.value.message, peer.value.message) == (NOT_ABOUT_ONESELF, FROM_ABOVE)


def test_an_officer_cannot_change_what_is_not_theirs_to_change(branch):
    with pytest.raises(ValidationError) as refused:
        edit(branch, "secretary", "member", {"citizen_id": "001099999999", "phone": "+84951111111"})
    assert set(refused.value.details) == {"citizen_id"}
    assert branch.world.reload(branch.member).phone != "+84951111111"


def test_another_members_party_card_is_a_conflict_and_nothing_is_written(branch):
    taken = branch.deputy.party_card_number
    with pytest.raises(Conflict) as clash:
        edit(branch, "secretary", "member", {"party_card_number": taken, "full_name": "Tên Khác"})
    assert set(clash.value.details) == {"party_card_number"}
    assert branch.world.reload(branch.member).full_name == "Lê Văn Hùng"
    assert len(published(branch.uow, "members.member_updated")) == 0


def test_leaving_the_party_needs_its_date_and_leaves_the_committees_figures(branch):
    before = counts.stats(branch.world.session, branch.grassroots)
    with pytest.raises(ValidationError) as undated:
        edit(branch, "secretary", "member", {"status": "resigned"})
    assert "left_on" in undated.value.details
    leaving = {"status": "resigned", "left_on": date(2026, 1, 5), "leaving_reason": "chuyển công tác nước ngoài"}
    edit(branch, "secretary", "member", leaving)
    after = counts.stats(branch.world.session, branch.grassroots)
    assert after["in_party"] == before["in_party"] - 1 and after["by_status"]["resigned"] == 1
    assert after["total"] == before["total"]


@pytest.mark.parametrize(
    "change, field",
    [
        ({"official_date": date(2004, 1, 1)}, "official_date"),  # before the admission date
        ({"status": "official", "official_date": None}, "official_date"),  # official since when?
    ],
)
def test_dates_must_tell_a_possible_story(branch, change, field):
    with pytest.raises(ValidationError) as refused:
        edit(branch, "secretary", "member", change)
    assert field in refused.value.details


def test_a_member_changes_their_contact_at_once_and_asks_for_the_rest(branch):
    asked = {"phone": "+84952222222", "full_name": "Lê Văn Hưng", "date_of_birth": date(1985, 5, 19)}
    answer = run(branch, changes.update_me, "member", asked)
    assert answer["member"]["phone"] == "+84952222222" and answer["member"]["full_name"] == "Lê Văn Hùng"
    assert answer["change_request"]["status"] == "pending"
    assert answer["change_request"]["changes"] == {"full_name": "Lê Văn Hưng", "date_of_birth": "1985-05-19"}
    assert actions(branch, branch.member) == ["member.create", "member.self_update"]


def ask(branch, who, **core):
    member = getattr(branch, who)
    with branch.uow.transaction():
        return changes.update_me(branch.uow, branch.world.actor(member), core)["change_request"]


def pending_for(branch, who):
    actor = branch.world.actor(getattr(branch, who))
    return {r["member_id"] for r in changes.pending_change_requests(branch.world.session, actor)["items"]}


def test_a_request_waits_for_the_secretaries_above_the_member_and_no_one_else(branch):
    ask(branch, "member", full_name="Lê Văn Hưng")
    ask(branch, "deputy", full_name="Tên Mới")
    ask(branch, "secretary", full_name="Tên Mới")
    member, deputy, secretary = branch.member.id, branch.deputy.id, branch.secretary.id
    assert pending_for(branch, "secretary") == {member}  # not her own, not her deputy's
    assert pending_for(branch, "above") == {member, deputy, secretary}
    assert pending_for(branch, "committee") == set()  # secretaries and deputies decide
    assert pending_for(branch, "sibling_secretary") == set()
    assert pending_for(branch, "member") == set()


def test_an_approved_request_changes_the_record_once(branch):
    request = ask(branch, "member", full_name="Lê Văn Hưng", date_of_birth=date(1985, 5, 19))
    decided = run(branch, changes.decide_change_request, "secretary", request["id"], True)
    assert decided["status"] == "approved"
    member = branch.world.reload(branch.member)
    assert (member.full_name, member.date_of_birth) == ("Lê Văn Hưng", date(1985, 5, 19))
    entry = branch.world.audit(member)[-1]
    assert entry.action == "member.change_request_approved" and str(request["id"]) in entry.note
    assert published(branch.uow, "members.change_request_decided")[-1]["decision"] == "approved"
    with pytest.raises(ValidationError):
        run(branch, changes.decide_change_request, "secretary", request["id"], False, "muộn")


def test_a_rejected_request_changes_nothing_and_tells_why(branch):
    request = ask(branch, "member", full_name="Lê Văn Hưng")
    run(branch, changes.decide_change_request, "secretary", request["id"], False, "Sai chính tả")
    assert branch.world.reload(branch.member).full_name == "Lê Văn Hùng"
    decision = published(branch.uow, "members.change_request_decided")[-1]
    assert (decision["decision"], decision["reason"]) == ("rejected", "Sai chính tả")


def test_nobody_approves_their_own_request_and_outsiders_do_not_see_it(branch):
    own = ask(branch, "secretary", full_name="Tên Mới")
    request = ask(branch, "member", gender="male")
    with pytest.raises(Forbidden):
        run(branch, changes.decide_change_request, "secretary", own["id"], True)
    with pytest.raises(NotFound):
        run(branch, changes.decide_change_request, "sibling_secretary", request["id"], True)
    assert branch.world.reload(branch.secretary).full_name != "Tên Mới"


def transfer(branch, who, member, to, kind="official"):
    return run(branch, changes.issue_transfer, who, member.id, to.id, kind)


def test_a_transfer_moves_the_member_when_the_receiving_side_accepts(branch):
    issued = transfer(branch, "secretary", branch.member, branch.far)
    assert published(branch.uow, "members.transfer_issued")[-1]["to_organization_id"] == branch.far.id
    far_province = branch.world.session.get(type(branch.far), branch.far.parent_id)
    before = counts.stats(branch.world.session, branch.grassroots)["in_party"]
    incoming = changes.incoming_transfers(branch.world.session, branch.world.actor(branch.far_secretary))["items"]
    assert [t["id"] for t in incoming] == [issued["id"]]
    assert changes.incoming_transfers(branch.world.session, branch.world.actor(branch.secretary))["items"] == []
    with pytest.raises(NotFound):  # the sending side cannot accept
        run(branch, changes.accept_transfer, "secretary", issued["id"])
    assert run(branch, changes.accept_transfer, "far_secretary", issued["id"])["status"] == "accepted"
    member = branch.world.reload(branch.member)
    assert (member.organization_id, member.organization_path) == (branch.far.id, branch.far.path)
    assert counts.stats(branch.world.session, branch.grassroots)["in_party"] == before - 1
    assert counts.stats(branch.world.session, far_province)["in_party"] == 2
    assert published(branch.uow, "members.member_transferred")[-1]["from_organization_id"] == branch.home.id
    assert actions(branch, member)[-2:] == ["transfer.issue", "transfer.accept"]
    with pytest.raises(ValidationError):
        run(branch, changes.accept_transfer, "far_secretary", issued["id"])


def test_one_transfer_at_a_time_and_never_to_where_the_member_is(branch):
    with pytest.raises(ValidationError):
        transfer(branch, "secretary", branch.member, branch.home)
    transfer(branch, "secretary", branch.member, branch.sibling, kind="temporary")
    with pytest.raises(ValidationError) as pending:
        transfer(branch, "secretary", branch.member, branch.far)
    assert "member_id" in pending.value.details


def file(branch, whose, record):
    entry = {"kind": "work_history", "detail": None, "start_date": None, "end_date": None, **record}
    return run(branch, changes.add_record, "secretary", getattr(branch, whose).id, entry)


def test_the_digital_file_is_written_by_officers_and_read_by_its_member(branch):
    for title, started in (("Phó phòng", date(2015, 3, 1)), ("Chuyên viên", date(2010, 9, 1))):
        file(branch, "member", {"title": title, "start_date": started})
    own = changes.list_records(branch.world.session, branch.world.actor(branch.member), branch.member.id)
    assert [r["title"] for r in own["items"]] == ["Chuyên viên", "Phó phòng"]  # in the order they happened
    assert actions(branch, branch.member).count("record.add") == 2
    with pytest.raises(NotFound):
        changes.list_records(branch.world.session, branch.world.actor(branch.sibling_secretary), branch.member.id)
    with pytest.raises(Forbidden):  # nobody writes their own file
        file(branch, "secretary", {"kind": "reward", "title": "Tự khen"})


def test_a_branchs_positions_are_given_from_the_committee_above(branch):
    with pytest.raises(Forbidden) as own_branch:
        run(branch, changes.appoint, "secretary", branch.member.id, branch.home.id, "committee_member")
    assert own_branch.value.message == FROM_ABOVE
    given = run(branch, changes.appoint, "committee", branch.member.id, branch.home.id, "committee_member")
    assert {"role": "committee_member", "organization_id": branch.home.id} in given["positions"]
    assert published(branch.uow, "members.position_changed")[-1]["action"] == "assigned"
    with pytest.raises(ValidationError):
        run(branch, changes.appoint, "committee", branch.member.id, branch.home.id, "committee_member")
    assert branch.world.actor(branch.world.reload(branch.member)).manages(branch.home.path)


def test_a_party_groups_positions_are_given_by_its_branch(branch):
    group = branch.world.organization("party_group", branch.home)
    given = run(branch, changes.appoint, "secretary", branch.member.id, group.id, "secretary")
    assert {"role": "secretary", "organization_id": group.id} in given["positions"]


def test_only_an_administrator_makes_an_administrator(branch):
    with pytest.raises(NotFound):
        run(branch, changes.appoint, "committee", branch.member.id, branch.centre.id, "system_administrator")
    run(branch, changes.appoint, "admin", branch.member.id, branch.centre.id, "system_administrator")
    assert branch.world.actor(branch.world.reload(branch.member)).is_admin


def test_an_ended_position_takes_its_authority_with_it(branch):
    answer = run(branch, changes.remove_position, "committee", branch.secretary.id, branch.home.id, "secretary")
    assert answer["positions"] == []
    ended = published(branch.uow, "members.position_changed")[-1]
    assert (ended["member_id"], ended["action"]) == (branch.secretary.id, "removed")
    assert not branch.world.actor(branch.world.reload(branch.secretary)).manages(branch.home.path)
    assert actions(branch, branch.secretary)[-1] == "position.remove"
    with pytest.raises(NotFound):
        run(branch, changes.remove_position, "committee", branch.secretary.id, branch.home.id, "secretary")


def test_nobody_accepts_their_own_transfer(branch):
    issued = transfer(branch, "admin", branch.above, branch.home)  # into a branch under her own committee
    with pytest.raises(Forbidden):
        run(branch, changes.accept_transfer, "above", issued["id"])
    assert branch.world.reload(branch.above).organization_id == branch.sibling.id


class SeenByTheGateway:
    """A member's GET /me version (services/members/domain.get_me) and whether the gateway hears of its change:
    an event since `watch()` that names the member, or one it cannot attribute to a member (it forgets everyone)."""

    def __init__(self, b, member):
        self.b, self.member = b, member

    def watch(self):
        self.b.world.session.expire_all()
        self.version = domain.get_me(self.b.world.session, self.member.id)["version"]
        outbox = self.b.uow.provider.outbox
        self.seq = self.b.world.session.scalar(select(func.max(outbox.c.seq))) or 0

    def changed(self):
        self.b.world.session.expire_all()
        version = domain.get_me(self.b.world.session, self.member.id)["version"]
        outbox = self.b.uow.provider.outbox
        events = self.b.world.session.execute(select(outbox.c.type, outbox.c.payload).where(outbox.c.seq > self.seq))
        heard = any(kind not in ONE_MEMBER or payload.get("member_id") == self.member.id for kind, payload in events)
        return version != self.version, heard


def test_every_write_that_changes_a_members_own_record_changes_its_version_and_tells_the_gateway(branch):
    b, member = branch, branch.member
    seen = SeenByTheGateway(b, member)
    writes = [
        lambda: edit(b, "secretary", "member", {"official_date": date(2007, 1, 2)}),
        lambda: run(b, lambda uow, actor: changes.update_me(uow, actor, {"phone": "+84952222222"}), "member"),
        lambda: run(b, changes.appoint, "above", member.id, b.home.id, "committee_member"),
        lambda: run(b, changes.remove_position, "above", member.id, b.home.id, "committee_member"),
    ]
    for write in writes:
        seen.watch()
        write()
        assert seen.changed() == (True, True)

    seen.watch()
    run(b, lambda uow, actor: changes.update_me(uow, actor, {"full_name": "Lê Văn Hưng"}), "member")
    request_id = b.world.session.scalar(select(func.max(ChangeRequest.id)))
    run(b, changes.decide_change_request, "secretary", request_id, True)
    assert seen.changed() == (True, True)

    seen.watch()
    transfer = run(b, changes.issue_transfer, "secretary", member.id, b.sibling.id, "official")
    run(b, changes.accept_transfer, "sibling_secretary", transfer["id"])
    assert seen.changed() == (True, True)

    seen.watch()  # the member's organisation dissolved into another: their organisation and positions change
    run(b, changes.appoint, "above", member.id, b.sibling.id, "committee_member")
    run(b, administration.merge, "above", b.sibling.id, b.home.id)
    assert seen.changed() == (True, True)

    seen.watch()  # an organisation's name is not in the record: the same version (whatever is published)
    run(b, administration.rename, "admin", b.home.id, "Chi bộ mới")
    assert seen.changed()[0] is False

    seen.watch()
    run(b, privacy.erase, "admin", member.id, "yêu cầu của đảng viên", lambda member_id, reason: {})
    assert seen.changed() == (True, True)
