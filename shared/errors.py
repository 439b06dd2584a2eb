"""One error hierarchy for every service, mapped to the JSON errors of API.md.

Errors cross RPC as nameko RemoteError(exc_type=<class name>, value=<json>);
the gateway turns them back into these types by name (see `from_remote`).
"""
import json


class SotayError(Exception):
    status = 500
    code = "internal_error"
    message = "Đã có lỗi xảy ra, vui lòng thử lại sau. / Something went wrong, please try again later."

    def __init__(self, message=None, details=None, headers=None):
        self.message = message or self.message
        self.details = details or {}
        self.headers = headers or {}
        super().__init__(self.encode())

    def encode(self):
        return json.dumps(
            {"code": self.code, "message": self.message, "details": self.details, "headers": self.headers},
            ensure_ascii=False,
        )

    def as_json(self):
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class ValidationError(SotayError):
    status = 400
    code = "validation_error"
    message = "Dữ liệu gửi lên không hợp lệ. / The request data is invalid."


class BadRequest(SotayError):
    status = 400
    code = "bad_request"
    message = "Yêu cầu không hợp lệ. / The request is malformed."


class MethodNotAllowed(SotayError):
    status = 405
    code = "method_not_allowed"
    message = "Phương thức không được hỗ trợ. / Method not allowed."


class PayloadTooLarge(SotayError):
    status = 413
    code = "payload_too_large"
    message = "Dữ liệu gửi lên quá lớn. / The request body is too large."


class UnsupportedMediaType(SotayError):
    status = 415
    code = "unsupported_media_type"
    message = ("Dữ liệu phải là JSON (Content-Type: application/json). / "
               "The body must be JSON (Content-Type: application/json).")


class Unauthenticated(SotayError):
    status = 401
    code = "unauthenticated"
    message = "Vui lòng đăng nhập. / Please sign in."


class InvalidCredentials(SotayError):
    status = 401
    code = "invalid_credentials"
    message = ("Số định danh hoặc mật khẩu không đúng. / "
               "The citizen ID or password is incorrect.")


class InvalidToken(SotayError):
    status = 401
    code = "invalid_token"
    message = "Phiên đăng nhập không hợp lệ hoặc đã hết hạn, vui lòng đăng nhập lại. / Your session is invalid or expired; please sign in again."


class Forbidden(SotayError):
    status = 403
    code = "forbidden"
    message = "Bạn không có quyền thực hiện thao tác này. / You are not allowed to do this."


class NotFound(SotayError):
    status = 404
    code = "not_found"
    message = "Không tìm thấy. / Not found."


class Conflict(SotayError):
    status = 409
    code = "conflict"
    message = "Dữ liệu trùng với dữ liệu đã có. / This conflicts with existing data."


class TooManyAttempts(SotayError):
    status = 429
    code = "too_many_attempts"
    message = "Quá nhiều lần thử, vui lòng đợi rồi thử lại. / Too many attempts; please wait and try again."


class ServiceUnavailable(SotayError):
    status = 503
    code = "service_unavailable"
    message = "Dịch vụ tạm thời gián đoạn, vui lòng thử lại sau ít phút. / The service is temporarily unavailable; please try again in a few minutes."


def is_outage(exc):
    """Whether `exc` says something else is unreachable for now (another service, the broker, the
    database), not that the work itself is wrong: the same work is worth trying again later."""
    from amqp.exceptions import ConnectionError as AmqpConnectionError
    from kombu.exceptions import OperationalError as BrokerError
    from nameko.exceptions import RpcTimeout, UnknownService
    from sqlalchemy.exc import DBAPIError, OperationalError as DatabaseError

    if isinstance(exc, (ServiceUnavailable, RpcTimeout, UnknownService, BrokerError, AmqpConnectionError,
                        DatabaseError, ConnectionError, TimeoutError)):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def from_remote(remote_error):
    """Rebuild a SotayError from a nameko RemoteError; None when it is not one of ours."""
    cls = REGISTRY.get(getattr(remote_error, "exc_type", None))
    if cls is None:
        return None
    try:
        data = json.loads(remote_error.value)
    except (TypeError, ValueError):
        return cls()
    return cls(message=data.get("message"), details=data.get("details"), headers=data.get("headers"))


class InvalidCode(SotayError):
    status = 400
    code = "invalid_code"
    message = "Mã xác nhận không đúng hoặc đã dùng. / The code is wrong or already used."


class CodeExpired(SotayError):
    status = 400
    code = "code_expired"
    message = "Mã xác nhận đã hết hạn, hãy yêu cầu mã mới. / The code has expired; ask for a new one."


class WeakPassword(SotayError):
    status = 400
    code = "weak_password"
    message = "Mật khẩu mới chưa đạt yêu cầu. / The new password is not acceptable."


class NotRolledOut(SotayError):
    status = 403
    code = "not_rolled_out"
    message = ("Đảng bộ của đồng chí chưa triển khai Sổ tay, vui lòng chờ thông báo. / "
               "Your party committee has not started using Sổ tay yet; please wait for its announcement.")


class PendingApproval(SotayError):
    status = 409
    code = "pending_approval"
    message = ("Yêu cầu đang chờ chi bộ xác nhận số điện thoại. / "
               "The request is waiting for your branch to confirm the phone number.")


class AccountFrozen(SotayError):
    status = 403
    code = "account_frozen"
    message = ("Tài khoản đang tạm khoá vì có báo cáo thay đổi không phải do đồng chí thực hiện; hãy liên hệ bí thư "
               "chi bộ (hoặc quản trị hệ thống) để được mở lại. / This account is frozen after a \"not me\" report; "
               "ask your branch secretary (or a system administrator) to release it.")


class NotAMember(SotayError):
    status = 403
    code = "not_a_member"
    message = ("Số định danh này không có trong cơ sở dữ liệu đảng viên. / "
               "This citizen ID is not in the party member database.")


class VneidFailed(SotayError):
    status = 401
    code = "vneid_failed"
    message = "Đăng nhập VNeID không thành công, vui lòng thử lại. / VNeID sign-in failed; please try again."


def _all_subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_subclasses(sub)


REGISTRY = {cls.__name__: cls for cls in _all_subclasses(SotayError)}
REGISTRY[SotayError.__name__] = SotayError
