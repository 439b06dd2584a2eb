"""One error hierarchy for every service, mapped to the JSON errors of API.md: the platform's errors here,
each service's own in its contract (`shared/contracts/<service>.py`), subclasses of these.

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
    message = (
        "Dữ liệu phải là JSON (Content-Type: application/json). / "
        "The body must be JSON (Content-Type: application/json)."
    )


class RangeNotSatisfiable(SotayError):
    status = 416
    code = "range_not_satisfiable"
    message = "Đoạn yêu cầu nằm ngoài tệp. / The requested range is outside the file."


class Unauthenticated(SotayError):
    status = 401
    code = "unauthenticated"
    message = "Vui lòng đăng nhập. / Please sign in."


class InvalidToken(SotayError):
    status = 401
    code = "invalid_token"
    message = (
        "Phiên đăng nhập không hợp lệ hoặc đã hết hạn, vui lòng đăng nhập lại. / "
        "Your session is invalid or expired; please sign in again."
    )


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
    message = (
        "Dịch vụ tạm thời gián đoạn, vui lòng thử lại sau ít phút. / "
        "The service is temporarily unavailable; please try again in a few minutes."
    )


def is_outage(exc):
    """Whether `exc` says something else is unreachable for now (another service, the broker, the
    database), not that the work itself is wrong: the same work is worth trying again later."""
    from amqp.exceptions import ConnectionError as AmqpConnectionError
    from kombu.exceptions import OperationalError as BrokerError
    from nameko.exceptions import RpcTimeout, UnknownService
    from sqlalchemy.exc import DBAPIError, OperationalError as DatabaseError

    if isinstance(
        exc,
        (
            ServiceUnavailable,
            RpcTimeout,
            UnknownService,
            BrokerError,
            AmqpConnectionError,
            DatabaseError,
            ConnectionError,
            TimeoutError,
        ),
    ):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def from_remote(remote_error):
    """Rebuild a SotayError from a nameko RemoteError; None when it is not one of ours."""
    cls = error_types().get(getattr(remote_error, "exc_type", None))
    if cls is None:
        return None
    try:
        data = json.loads(remote_error.value)
    except (TypeError, ValueError):
        return cls()
    return cls(message=data.get("message"), details=data.get("details"), headers=data.get("headers"))


def _all_subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_subclasses(sub)


def error_types():
    """Every error type by class name: the platform's here and each service's in its contract."""
    from shared.contracts import modules  # here, not above: the contracts import this module

    modules()
    return {cls.__name__: cls for cls in (SotayError, *_all_subclasses(SotayError))}
