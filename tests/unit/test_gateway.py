"""The gateway alone, with nameko's own test tools and no broker: the services it calls are mocks, so what is
tested is the gateway's part — RPC errors become their HTTP answers, answers leave through their schema, a
method a path lacks is a 405 naming the ones it has, a path id no record can have is a 404."""

from types import SimpleNamespace
from urllib.parse import unquote

import pytest
import requests
from nameko import config as nameko_config
from nameko.containers import ServiceContainer
from nameko.exceptions import RpcTimeout
from nameko.extensions import iter_extensions
from nameko.testing.services import replace_dependencies, worker_factory
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from shared.auth import Principal
from shared.errors import Forbidden, NotFound, TooManyAttempts, Unauthenticated, ValidationError
from shared.http import JsonWebServer
from shared.rpc import unavailable
from services.gateway.service import GatewayService
from services.gateway.versions import KnownVersions

RECORD = {
    "id": 7,
    "full_name": "Lê Văn Hùng",
    "positions": [{"role": "secretary", "organization_id": 3}],
    "citizen_id": "001000000002",
    "date_of_birth": "1990-05-01",
    "gender": "male",
    "status": "official",
    "organization_id": 3,
    "phone": None,
    "party_card_number": None,
    "admission_date": None,
    "official_date": None,
}


def without_broker(container, *names, **replacements):
    """nameko's replace_dependencies, and the replaced dependencies' own extensions gone with them (the RPC reply
    queue, the session-ends feed): nothing is left that needs RabbitMQ."""
    replaced = [dependency for dependency in container.dependencies if dependency.attr_name in {*names, *replacements}]
    orphans = {extension for dependency in replaced for extension in iter_extensions(dependency)}
    mocks = replace_dependencies(container, *names, **replacements)
    container.subextensions.difference_update(orphans)
    return mocks


@pytest.fixture
def environment():
    return "test"


@pytest.fixture
def gateway(tmp_path, environment):
    settings = {
        "WEB_SERVER_ADDRESS": "127.0.0.1:0",
        "OPERATIONS_ADDRESS": "127.0.0.1:0",
        "SOTAY_ENV": environment,
        "DATA_DIR": str(tmp_path),
        "AUTH_ATTEMPTS_PER_MINUTE": 1000,
        "AMQP_URI": "amqp://guest:guest@127.0.0.1:9/",
    }  # nobody listens there: no broker is needed
    with nameko_config.patch(settings, clear=True):
        container = ServiceContainer(GatewayService)
        versions = KnownVersions()  # as if its feed were connected (tests/integration: the feed itself)
        versions.connected()
        rpc, caller = without_broker(container, "rpc", "caller", versions=versions)
        caller.require.return_value = Principal(member_id=7, citizen_id="001000000002", session_id="s")
        container.start()
        server = next(extension for extension in container.subextensions if type(extension) is JsonWebServer)
        try:
            yield SimpleNamespace(
                base=f"http://127.0.0.1:{server._sock.getsockname()[1]}/api/v1",
                rpc=rpc,
                caller=caller,
                versions=versions,
            )
        finally:
            container.stop()


def get(gateway, path, **options):
    return requests.get(gateway.base + path, timeout=5, **options)


@pytest.mark.parametrize(
    "raised, status", [(NotFound(), 404), (Forbidden(), 403), (ValidationError(), 400), (RuntimeError("a bug"), 500)]
)
def test_an_error_of_the_owning_service_is_its_json_answer(gateway, raised, status):
    gateway.rpc.members.get_member.side_effect = raised
    answer = get(gateway, "/members/7")
    assert answer.status_code == status
    assert answer.json()["error"]["code"] == getattr(raised, "code", "internal_error")


@pytest.mark.parametrize(
    "raised", [TooManyAttempts(headers={"Retry-After": "30"}), unavailable("members", "no_consumer")]
)
def test_a_refusal_to_come_back_later_says_when(gateway, raised):
    gateway.rpc.members.get_member.side_effect = raised
    answer = get(gateway, "/members/7")
    assert answer.status_code == raised.status and int(answer.headers["Retry-After"]) > 0


def test_a_service_that_does_not_answer_in_time_is_a_503_not_a_500(gateway):
    gateway.rpc.members.get_member.side_effect = RpcTimeout()
    assert get(gateway, "/members/7").status_code == 503


def test_without_a_valid_token_no_service_is_called(gateway):
    gateway.caller.require.side_effect = Unauthenticated()
    assert get(gateway, "/members/7").status_code == 401
    assert not gateway.rpc.members.get_member.called


def test_a_body_the_schema_refuses_never_reaches_the_service(gateway):
    answer = requests.post(f"{gateway.base}/auth/login", json={"citizen_id": "1"}, timeout=5)
    assert answer.status_code == 400 and set(answer.json()["error"]["details"]) == {"citizen_id", "password"}
    assert not gateway.rpc.identity.login.called


def test_the_answer_leaves_through_its_schema(gateway):
    gateway.rpc.members.get_member.return_value = RECORD
    answer = get(gateway, "/members/7")
    assert answer.status_code == 200 and answer.json() == RECORD
    gateway.rpc.members.get_member.assert_called_once_with(7)


@pytest.mark.parametrize("drift", [{"email": "hung@example.vn"}, {"id": "seven"}, {"status": "retired"}])
def test_outside_production_an_answer_its_schema_does_not_describe_is_a_failure(gateway, drift):
    gateway.rpc.members.get_member.return_value = {**RECORD, **drift}
    assert get(gateway, "/members/7").status_code == 500


@pytest.mark.parametrize("environment", ["production"])
def test_in_production_an_undocumented_field_never_leaves(gateway):
    gateway.rpc.members.get_member.return_value = {**RECORD, "email": "hung@example.vn"}
    answer = get(gateway, "/members/7")
    assert answer.status_code == 200 and "email" not in answer.json()


@pytest.mark.parametrize(
    "method, path, allowed",
    [
        ("GET", "/auth/login", "POST"),
        ("DELETE", "/me", "GET, HEAD, PATCH"),
        ("OPTIONS", "/members/7/positions", "DELETE, POST"),
    ],
)
def test_a_method_the_path_lacks_is_a_405_naming_the_ones_it_has(gateway, method, path, allowed):
    answer = requests.request(method, gateway.base + path, timeout=5)
    assert answer.status_code == 405 and answer.json()["error"]["code"] == "method_not_allowed"
    assert answer.headers["Allow"] == allowed


@pytest.mark.parametrize("member_id", [str(2**63), "-1", "1e3", "٣"])
def test_a_path_id_no_record_can_have_is_a_404_without_asking_anyone(gateway, member_id):
    answer = get(gateway, f"/members/{member_id}")
    assert answer.status_code == 404 and answer.json()["error"]["code"] == "not_found"
    assert not gateway.rpc.members.get_member.called


def test_the_largest_id_a_column_holds_is_asked_for(gateway):
    gateway.rpc.members.get_member.side_effect = NotFound()
    assert get(gateway, f"/members/{2**63 - 1}").status_code == 404
    gateway.rpc.members.get_member.assert_called_once_with(2**63 - 1)


def test_path_body_and_query_become_the_rpc_arguments(gateway):
    organization = {
        "id": 5,
        "code": "CB1",
        "name": "Chi bộ 1",
        "level": "party_group",
        "parent_id": 4,
        "rollout": "live",
    }
    gateway.rpc.members.merge_organization.return_value = organization
    merged = requests.post(f"{gateway.base}/organizations/5/merge", json={"into": 9}, timeout=5)
    assert merged.status_code == 200 and merged.json() == organization
    gateway.rpc.members.merge_organization.assert_called_once_with(5, 9)

    gateway.rpc.members.list_members.return_value = {"items": [], "next_cursor": None}
    assert get(gateway, "/organizations/5/members?q=hung&limit=5&other=x").status_code == 200
    gateway.rpc.members.list_members.assert_called_once_with(5, {"q": "hung", "limit": "5"})

    gateway.rpc.notify.mark_read.return_value = {"marked": 3}
    assert requests.post(f"{gateway.base}/me/notifications/all/read", timeout=5).json() == {"marked": 3}
    gateway.rpc.notify.mark_read.assert_called_once_with(None)


def test_a_decision_without_a_body_has_no_reason(gateway):
    gateway.rpc.members.decide_change_request.side_effect = NotFound()
    assert requests.post(f"{gateway.base}/change-requests/3/reject", timeout=5).status_code == 404
    gateway.rpc.members.decide_change_request.assert_called_once_with(3, False, None)


def test_a_worker_answers_with_the_status_its_route_declares():
    service = worker_factory(GatewayService)
    service.rpc.members.create_member.return_value = {
        "status": "pending_review",
        "registration_id": 4,
        "message": "Chờ xem xét. / Waiting for review.",
    }
    body = {"citizen_id": "001000000009", "full_name": "Phan Văn Tư", "status": "official", "organization_id": 3}
    request = Request(EnvironBuilder(method="POST", path="/api/v1/members", json=body).get_environ())
    with nameko_config.patch({"SOTAY_ENV": "test"}):
        status, answer = service.create_member(request)
    assert status == 202 and answer["registration_id"] == 4


def test_the_check_in_code_comes_with_its_qr_code_drawn(gateway):
    images = []
    for code in ("492039", "118804"):
        current = {"code": code, "expires_at": "2026-12-05T12:30:30+00:00", "qr": f"sotay:checkin:5:{code}"}
        gateway.rpc.meetings.check_in_code.return_value = current
        answer = get(gateway, "/meetings/5/check-in-code")
        assert answer.status_code == 200, answer.text
        shown = answer.json()
        assert {key: shown[key] for key in current} == current
        kind, _, svg = shown["image"].partition(",")
        assert kind.startswith("data:image/svg+xml") and "<svg" in unquote(svg)
        images.append(shown["image"])
    assert images[0] != images[1]  # a new code, a new picture
    gateway.rpc.meetings.check_in_code.assert_called_with(5)
    # the same code again (a screen renewing early): meetings is still asked (who may see it), the picture kept
    current = {"code": "492039", "expires_at": "2026-12-05T12:30:30+00:00", "qr": "sotay:checkin:5:492039"}
    gateway.rpc.meetings.check_in_code.return_value = current
    assert get(gateway, "/meetings/5/check-in-code").json()["image"] == images[0]
    assert gateway.rpc.meetings.check_in_code.call_count == 3


def signed_in_as(gateway, member_id):
    gateway.caller.require.return_value = Principal(member_id=member_id, citizen_id="0", session_id=f"s{member_id}")


def test_an_unchanged_record_is_a_304_from_the_gateway_without_asking_members(gateway):
    gateway.rpc.members.get_me.side_effect = lambda: {**RECORD, "version": "v1"}
    first = get(gateway, "/me")
    assert first.status_code == 200 and first.json() == RECORD  # the version is no field of the record
    assert first.headers["ETag"] == 'W/"v1"' and first.headers["Cache-Control"] == "private, no-cache"
    again = get(gateway, "/me", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.content == b"" and again.headers["ETag"] == 'W/"v1"'
    assert gateway.rpc.members.get_me.call_count == 1
    assert get(gateway, "/me", headers={"If-None-Match": '"v1"'}).status_code == 304  # weak comparison
    assert get(gateway, "/me", headers={"If-None-Match": 'W/"v0"'}).status_code == 200
    assert gateway.rpc.members.get_me.call_count == 2


def test_a_version_answers_only_for_the_member_it_was_learnt_for(gateway):
    gateway.rpc.members.get_me.side_effect = lambda: {**RECORD, "version": "v1"}
    get(gateway, "/me")
    signed_in_as(gateway, 8)
    gateway.rpc.members.get_me.side_effect = lambda: {**RECORD, "id": 8, "version": "v8"}
    other = get(gateway, "/me", headers={"If-None-Match": 'W/"v1"'})
    assert other.status_code == 200 and other.json()["id"] == 8 and other.headers["ETag"] == 'W/"v8"'
    assert gateway.rpc.members.get_me.call_count == 2


def test_no_304_without_a_valid_token(gateway):
    gateway.rpc.members.get_me.side_effect = lambda: {**RECORD, "version": "v1"}
    get(gateway, "/me")
    gateway.caller.require.side_effect = Unauthenticated()
    assert get(gateway, "/me", headers={"If-None-Match": 'W/"v1"'}).status_code == 401


def test_the_members_own_change_through_the_gateway_is_seen_at_once(gateway):
    gateway.rpc.members.get_me.side_effect = lambda: {**RECORD, "version": "v1"}
    get(gateway, "/me")
    gateway.rpc.members.update_me.return_value = {"member": RECORD, "change_request": None}
    assert requests.patch(gateway.base + "/me", json={"phone": "0912345678"}, timeout=5).status_code == 200
    gateway.rpc.members.get_me.side_effect = lambda: {**RECORD, "phone": "0912345678", "version": "v2"}
    after = get(gateway, "/me", headers={"If-None-Match": 'W/"v1"'})
    assert after.status_code == 200 and after.headers["ETag"] == 'W/"v2"'


def test_a_version_members_still_has_is_a_304_even_when_the_gateway_did_not_know_it(gateway):
    gateway.rpc.members.get_me.side_effect = lambda: {**RECORD, "version": "v1"}
    assert get(gateway, "/me", headers={"If-None-Match": 'W/"v1"'}).status_code == 304
    assert gateway.rpc.members.get_me.call_count == 1


EMPTY_PAGE = {"items": [], "next_cursor": None}


def documents_answer(version, holds_until=None):
    return lambda *args: {**EMPTY_PAGE, "version": version, "holds_until": holds_until, "reader_organizations": [1, 3]}


def test_an_unchanged_document_list_is_a_304_from_the_gateway_for_the_same_query_in_any_order(gateway):
    gateway.rpc.content.list_documents.side_effect = documents_answer("d1")
    first = get(gateway, "/documents?category=study&unread=true")
    assert first.status_code == 200 and first.json() == EMPTY_PAGE  # nothing of the version leaves as a field
    assert first.headers["ETag"] == 'W/"d1"' and first.headers["Cache-Control"] == "private, no-cache"
    same = get(gateway, "/documents?unread=true&category=study&nonsense=1", headers={"If-None-Match": 'W/"d1"'})
    assert same.status_code == 304 and gateway.rpc.content.list_documents.call_count == 1
    other = get(gateway, "/documents?category=study", headers={"If-None-Match": 'W/"d1"'})
    assert other.status_code == 304 and gateway.rpc.content.list_documents.call_count == 2  # asked: another key


def test_a_list_answer_holds_no_longer_than_its_owner_says(gateway):
    gateway.rpc.content.list_documents.side_effect = documents_answer("d1", holds_until="2000-01-01T00:00:00+00:00")
    get(gateway, "/documents")
    assert get(gateway, "/documents", headers={"If-None-Match": 'W/"d1"'}).status_code == 304
    assert gateway.rpc.content.list_documents.call_count == 2  # already past: never answered here
    gateway.rpc.content.list_documents.side_effect = documents_answer("d1", holds_until="")  # drafts: no time
    get(gateway, "/documents?status=draft")
    get(gateway, "/documents?status=draft", headers={"If-None-Match": 'W/"d1"'})
    assert gateway.rpc.content.list_documents.call_count == 4


def test_the_members_own_read_receipt_or_answer_through_the_gateway_is_seen_at_once(gateway):
    gateway.rpc.content.list_documents.side_effect = documents_answer("d1")
    gateway.rpc.meetings.my_meetings.side_effect = lambda *args: {**EMPTY_PAGE, "version": "m1", "holds_until": None}
    get(gateway, "/documents")
    get(gateway, "/me/meetings")
    gateway.rpc.content.mark_read.return_value = {"document_id": 5, "read": True, "bookmarked": False}
    assert requests.post(gateway.base + "/documents/5/read", timeout=5).status_code == 200
    get(gateway, "/documents", headers={"If-None-Match": 'W/"d1"'})
    get(gateway, "/me/meetings", headers={"If-None-Match": 'W/"m1"'})
    assert gateway.rpc.content.list_documents.call_count == 2 and gateway.rpc.meetings.my_meetings.call_count == 2


def test_a_list_query_the_schema_refuses_is_a_400_and_nothing_is_learnt(gateway):
    gateway.rpc.content.list_documents.side_effect = documents_answer("d1")
    assert get(gateway, "/documents?limit=0").status_code == 400
    assert gateway.rpc.content.list_documents.call_count == 0 and len(gateway.versions) == 0


MEETING = {
    "id": 5,
    "organization_id": 3,
    "title": "Sinh hoạt chi bộ tháng 12",
    "kind": "regular",
    "starts_at": "2026-12-01T12:00:00+00:00",
    "ends_at": "2026-12-01T14:00:00+00:00",
    "location": "Hội trường",
    "online_url": None,
    "agenda": [],
    "status": "in_progress",
    "series_id": None,
    "cancel_reason": None,
    "invited": 3,
    "attending": 2,
    "checked_in": 1,
    "my_rsvp": None,
    "my_check_in": None,
}


def meeting_answer(version, holds_until=None, **shown):
    return lambda *args: {**MEETING, **shown, "version": version, "holds_until": holds_until}


def test_an_unchanged_meeting_is_a_304_from_the_gateway_for_the_member_it_was_answered_to(gateway):
    gateway.rpc.meetings.get_meeting.side_effect = meeting_answer("m1")
    first = get(gateway, "/meetings/5")
    assert first.status_code == 200 and first.json() == MEETING  # neither version nor holds_until leaves
    assert first.headers["ETag"] == 'W/"m1"' and first.headers["Cache-Control"] == "private, no-cache"
    again = get(gateway, "/meetings/5", headers={"If-None-Match": 'W/"m1"'})
    assert again.status_code == 304 and gateway.rpc.meetings.get_meeting.call_count == 1
    gateway.rpc.meetings.get_meeting.assert_called_with(5)
    signed_in_as(gateway, 8)  # their own answer and check-in: never another member's version
    get(gateway, "/meetings/5", headers={"If-None-Match": 'W/"m1"'})
    assert gateway.rpc.meetings.get_meeting.call_count == 2


def test_a_meeting_holds_until_meetings_says_and_one_without_a_version_is_always_asked(gateway):
    gateway.rpc.meetings.get_meeting.side_effect = meeting_answer("m1", holds_until="2000-01-01T00:00:00+00:00")
    get(gateway, "/meetings/5")
    assert get(gateway, "/meetings/5", headers={"If-None-Match": 'W/"m1"'}).status_code == 304
    assert gateway.rpc.meetings.get_meeting.call_count == 2  # already started: never answered here
    gateway.rpc.meetings.get_meeting.side_effect = lambda *args: dict(MEETING)  # an officer not invited
    answer = get(gateway, "/meetings/5", headers={"If-None-Match": 'W/"m1"'})
    assert answer.status_code == 200 and "ETag" not in answer.headers
    assert gateway.rpc.meetings.get_meeting.call_count == 3


def test_the_members_own_answer_or_check_in_through_the_gateway_shows_in_their_meeting_at_once(gateway):
    gateway.rpc.meetings.get_meeting.side_effect = meeting_answer("m1")
    get(gateway, "/meetings/5")
    gateway.rpc.meetings.check_in.return_value = {
        "member_id": 7,
        "checked_in_at": "2026-12-01T12:01:00+00:00",
        "late": False,
        "method": "code",
    }
    assert requests.post(gateway.base + "/meetings/5/check-in", json={"code": "123456"}, timeout=5).status_code == 200
    gateway.rpc.meetings.get_meeting.side_effect = meeting_answer("m2", checked_in=2)
    after = get(gateway, "/meetings/5", headers={"If-None-Match": 'W/"m1"'})
    assert after.status_code == 200 and after.json()["checked_in"] == 2 and after.headers["ETag"] == 'W/"m2"'


def test_a_meeting_meetings_no_longer_shows_the_member_is_its_404_not_a_304(gateway):
    gateway.rpc.meetings.get_meeting.side_effect = meeting_answer("m1")
    get(gateway, "/meetings/5")
    gateway.versions.forget(("meetings of", 3))  # their invitation taken away (meetings.meeting_updated)
    gateway.rpc.meetings.get_meeting.side_effect = NotFound()
    assert get(gateway, "/meetings/5", headers={"If-None-Match": 'W/"m1"'}).status_code == 404
    assert get(gateway, "/meetings/5", headers={"If-None-Match": 'W/"m1"'}).status_code == 404  # nothing learnt
