"""Kiri's bootstrap for Lambda's python3.x runtimes.

A Lambda Runtime API (2018-06-01) client written against the standard library only. It loads
the handler named by _HANDLER from LAMBDA_TASK_ROOT, then long-polls
http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/invocation/next on one keep-alive connection,
calls the handler and posts its result or error. Error shapes, error types, the context object
and the log format follow AWS's Python runtime interface client.
"""

import decimal
import http.client
import importlib
import json
import logging
import math
import os
import sys
import time
import traceback

API_PREFIX = "/2018-06-01/runtime"
ERROR_TYPE_HEADER = "Lambda-Runtime-Function-Error-Type"
ERROR_LOG_LINE_TERMINATE = "\r"
ERROR_LOG_INDENT = "\u00a0"

MALFORMED_HANDLER_NAME = "Runtime.MalformedHandlerName"
BUILT_IN_MODULE_CONFLICT = "Runtime.BuiltInModuleConflict"
IMPORT_MODULE_ERROR = "Runtime.ImportModuleError"
USER_CODE_SYNTAX_ERROR = "Runtime.UserCodeSyntaxError"
HANDLER_NOT_FOUND = "Runtime.HandlerNotFound"
MARSHAL_ERROR = "Runtime.MarshalError"
UNMARSHAL_ERROR = "Runtime.UnmarshalError"
CONTEXT_UNMARSHAL_ERROR = "Runtime.LambdaContextUnmarshalError"


class FaultError(Exception):
    """An error the runtime itself diagnoses, reported with a Runtime.* error type."""

    def __init__(self, error_type, message, trace=None):
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.trace = trace


class Unbuffered:
    """Wraps a text stream so every write is flushed: logs appear line by line."""

    def __init__(self, stream):
        self.stream = stream

    def __getattr__(self, attr):
        return getattr(self.stream, attr)

    def write(self, msg):
        n = self.stream.write(msg)
        self.stream.flush()
        return n

    def writelines(self, lines):
        self.stream.writelines(lines)
        self.stream.flush()


# ---------------------------------------------------------------------------------------------
# JSON

class _Encoder(json.JSONEncoder):
    """Encodes handler results; Decimal (as boto3's DynamoDB types return) becomes a number."""

    def default(self, obj):
        if isinstance(obj, decimal.Decimal):
            if obj.is_nan():
                return math.nan
            if obj == obj.to_integral_value() and obj.is_finite():
                return int(obj)
            return float(obj)
        return super().default(obj)


_ENCODER = _Encoder()


def to_json(obj):
    return _ENCODER.encode(obj)


def marshal_response(response):
    if isinstance(response, bytes):
        return response, "application/unknown"
    try:
        return to_json(response).encode("utf-8"), "application/json"
    except Exception as e:
        raise FaultError(MARSHAL_ERROR, "Unable to marshal response: {}".format(e))


def unmarshal_request(body, content_type):
    media = (content_type or "application/json").split(";", 1)[0].strip().lower()
    if media != "application/json":
        return body
    try:
        return json.loads(body)
    except Exception as e:
        raise FaultError(UNMARSHAL_ERROR, "Unable to unmarshal input: {}".format(e))


# ---------------------------------------------------------------------------------------------
# Runtime API client

class RuntimeClient:
    """Speaks the Runtime API over one keep-alive HTTP connection, with no timeout."""

    def __init__(self, address):
        host, _, port = address.rpartition(":")
        self.host = host.strip("[]") or "127.0.0.1"
        self.port = int(port)
        self.conn = None
        self.used = False

    def _request(self, method, path, body=None, headers=None):
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=None)
                self.used = False
            reused = self.used
            try:
                self.conn.request(method, path, body=body, headers=headers or {})
                resp = self.conn.getresponse()
                data = resp.read()
            except (http.client.HTTPException, ConnectionError):
                self.conn.close()
                self.conn = None
                # A keep-alive connection the server closed while idle: retry once on a fresh one.
                if reused and attempt == 0:
                    continue
                raise
            self.used = True
            if resp.will_close:
                self.conn.close()
                self.conn = None
            return resp, data

    def _post(self, path, body, headers):
        resp, data = self._request("POST", path, body, headers)
        if resp.status >= 300:
            sys.stderr.write("runtime API: POST {} returned {}: {}\n".format(
                path, resp.status, data.decode("utf-8", "replace")))
        return resp

    def next_invocation(self):
        resp, body = self._request("GET", API_PREFIX + "/invocation/next")
        if resp.status != 200:
            raise RuntimeError("runtime API: GET next returned {}: {}".format(
                resp.status, body.decode("utf-8", "replace")))
        return resp, body

    def post_result(self, request_id, body, content_type):
        self._post(API_PREFIX + "/invocation/{}/response".format(request_id), body,
                   {"Content-Type": content_type})

    def post_error(self, request_id, error):
        self._post(API_PREFIX + "/invocation/{}/error".format(request_id),
                   to_json(error).encode("utf-8"),
                   {"Content-Type": "application/json", ERROR_TYPE_HEADER: error["errorType"]})

    def post_init_error(self, error):
        self._post(API_PREFIX + "/init/error", to_json(error).encode("utf-8"),
                   {"Content-Type": "application/json", ERROR_TYPE_HEADER: error["errorType"]})


# ---------------------------------------------------------------------------------------------
# Errors

def make_error(message, error_type, stack_trace, request_id=None):
    return {
        "errorMessage": message or "",
        "errorType": error_type or "",
        "requestId": request_id if request_id is not None else "",
        "stackTrace": stack_trace or [],
    }


def error_from_exception(exc, request_id=None):
    """Builds AWS's error JSON; the stack trace starts at the first frame outside this file."""
    if isinstance(exc, FaultError):
        return make_error(exc.message, exc.error_type, exc.trace, request_id)
    frames = traceback.extract_tb(exc.__traceback__)
    for i, frame in enumerate(frames):
        if "/bootstrap.py" not in frame.filename:
            frames = frames[i:]
            break
    return make_error(str(exc), type(exc).__name__, traceback.format_list(frames), request_id)


def log_error(error):
    if LOG_FORMAT_JSON:
        record = {"timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "level": "ERROR"}
        record.update(error)
        sys.stdout.write(to_json(record) + "\n")
        return
    description = "[ERROR]"
    if error.get("errorType"):
        description += " " + error["errorType"]
    if error.get("errorMessage"):
        if error.get("errorType"):
            description += ":"
        description += " " + error["errorMessage"]
    lines = [description, "Traceback (most recent call last):"]
    for element in error.get("stackTrace") or []:
        if element == "":
            lines.append("")
            continue
        for line in element.splitlines():
            stripped = line.lstrip(" ")
            lines.append(ERROR_LOG_INDENT * (len(line) - len(stripped)) + stripped)
    # One record per error: the lines are joined with CR so line-based log capture keeps them together.
    sys.stdout.write(ERROR_LOG_LINE_TERMINATE.join(lines) + "\n")


# ---------------------------------------------------------------------------------------------
# Handler loading

def load_handler(handler):
    try:
        modname, fname = handler.rsplit(".", 1)
    except ValueError as e:
        raise FaultError(MALFORMED_HANDLER_NAME, "Bad handler '{}': {}".format(handler, e))
    if modname.split(".")[0] in sys.builtin_module_names:
        raise FaultError(BUILT_IN_MODULE_CONFLICT,
                         "Cannot use built-in module {} as a handler module".format(modname))
    try:
        module = importlib.import_module(modname.replace("/", "."))
    except ImportError as e:
        raise FaultError(IMPORT_MODULE_ERROR, "Unable to import module '{}': {}".format(modname, e))
    except SyntaxError as e:
        trace = ['  File "%s" Line %s\n    %s' % (e.filename, e.lineno, e.text)]
        raise FaultError(USER_CODE_SYNTAX_ERROR,
                         "Syntax error in module '{}': {}".format(modname, e), trace)
    try:
        return getattr(module, fname)
    except AttributeError:
        raise FaultError(HANDLER_NOT_FOUND, "Handler '{}' missing on module '{}'".format(fname, modname))


# ---------------------------------------------------------------------------------------------
# Context

class CognitoIdentity:
    __slots__ = ["cognito_identity_id", "cognito_identity_pool_id"]


class Client:
    __slots__ = ["installation_id", "app_title", "app_version_name", "app_version_code", "app_package_name"]


class ClientContext:
    __slots__ = ["custom", "env", "client"]


def _object_from_dict(cls, values):
    if values is None:
        return None
    obj = cls()
    for field in cls.__slots__:
        setattr(obj, field, values.get(field))
    return obj


def _parse_json_header(value, name):
    try:
        return json.loads(value)
    except Exception as e:
        raise FaultError(CONTEXT_UNMARSHAL_ERROR, "Unable to parse {} JSON: {}".format(name, e))


class LambdaContext:
    """The context object handlers receive, with the attributes AWS's Python runtime provides."""

    def __init__(self, request_id, deadline_ms, invoked_function_arn, client_context_json, identity_json):
        env = os.environ
        self.aws_request_id = request_id
        self.log_group_name = env.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = env.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.function_name = env.get("AWS_LAMBDA_FUNCTION_NAME")
        self.memory_limit_in_mb = env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.function_version = env.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = invoked_function_arn
        self.client_context = None
        if client_context_json:
            self.client_context = _object_from_dict(
                ClientContext, _parse_json_header(client_context_json, "Client Context"))
            self.client_context.client = _object_from_dict(Client, self.client_context.client)
        self.identity = _object_from_dict(CognitoIdentity, {})
        if identity_json:
            identity = _parse_json_header(identity_json, "Cognito Identity")
            self.identity.cognito_identity_id = identity.get("cognitoIdentityId")
            self.identity.cognito_identity_pool_id = identity.get("cognitoIdentityPoolId")
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self):
        remaining = self._deadline_ms - int(time.time() * 1000)
        return remaining if remaining > 0 else 0

    def log(self, msg):
        sys.stdout.write(str(msg))

    def __repr__(self):
        return ("LambdaContext([aws_request_id={},log_group_name={},log_stream_name={},function_name={},"
                "memory_limit_in_mb={},function_version={},invoked_function_arn={},client_context={},"
                "identity={}])").format(self.aws_request_id, self.log_group_name, self.log_stream_name,
                                        self.function_name, self.memory_limit_in_mb, self.function_version,
                                        self.invoked_function_arn, self.client_context, self.identity)


# ---------------------------------------------------------------------------------------------
# Logging

LOG_FORMAT_JSON = os.environ.get("AWS_LAMBDA_LOG_FORMAT", "").upper() == "JSON"
_LOG_RESERVED = {
    "name", "msg", "args", "levelname", "levelno", "pathname", "filename", "module", "exc_info",
    "exc_text", "stack_info", "lineno", "funcName", "created", "msecs", "relativeCreated", "thread",
    "threadName", "processName", "process", "aws_request_id", "taskName",
}


class RequestState:
    """The current request id, read by the log filter."""

    request_id = ""


class _RequestIdFilter(logging.Filter):
    def filter(self, record):
        record.aws_request_id = RequestState.request_id
        return True


class _JsonFormatter(logging.Formatter):
    def format(self, record):
        levelno = min(50, max(0, record.levelno)) // 10 * 10
        created = time.gmtime(record.created)
        result = {
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S", created) + ".%03dZ" % int(record.msecs),
            "level": logging.getLevelName(levelno),
            "message": record.getMessage(),
            "logger": record.name,
            "requestId": getattr(record, "aws_request_id", None),
        }
        if record.exc_info:
            result["errorType"] = record.exc_info[0].__name__
            result["errorMessage"] = str(record.exc_info[1])
            result["stackTrace"] = traceback.format_tb(record.exc_info[2])
            result["location"] = "{}:{}:{}".format(record.pathname, record.funcName, record.lineno)
        for key, value in record.__dict__.items():
            if key not in _LOG_RESERVED and key not in result:
                result[key] = value
        return json.dumps({k: v for k, v in result.items() if v is not None}, default=str,
                          ensure_ascii=False) + "\n"


class _StdoutHandler(logging.Handler):
    def emit(self, record):
        try:
            sys.stdout.write(self.format(record))
        except Exception:
            self.handleError(record)


def setup_logging():
    logging.Formatter.converter = time.gmtime
    handler = _StdoutHandler()
    if LOG_FORMAT_JSON:
        handler.setFormatter(_JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(
            "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n",
            "%Y-%m-%dT%H:%M:%S"))
    handler.addFilter(_RequestIdFilter())
    root = logging.getLogger()
    level = os.environ.get("AWS_LAMBDA_LOG_LEVEL", "").upper()
    level = {"TRACE": "DEBUG", "FATAL": "CRITICAL"}.get(level, level)
    if level in logging._nameToLevel:
        root.setLevel(level)
    root.addHandler(handler)


# ---------------------------------------------------------------------------------------------
# Invocation loop

def handle_invocation(client, handler, resp, body):
    request_id = resp.getheader("Lambda-Runtime-Aws-Request-Id", "")
    RequestState.request_id = request_id
    trace_id = resp.getheader("Lambda-Runtime-Trace-Id")
    if trace_id is None:
        os.environ.pop("_X_AMZN_TRACE_ID", None)
    else:
        os.environ["_X_AMZN_TRACE_ID"] = trace_id
    try:
        context = LambdaContext(
            request_id,
            int(resp.getheader("Lambda-Runtime-Deadline-Ms", "0") or 0),
            resp.getheader("Lambda-Runtime-Invoked-Function-Arn"),
            resp.getheader("Lambda-Runtime-Client-Context"),
            resp.getheader("Lambda-Runtime-Cognito-Identity"),
        )
        event = unmarshal_request(body, resp.getheader("Content-Type"))
        result, content_type = marshal_response(handler(event, context))
    except Exception as e:
        error = error_from_exception(e, request_id)
        log_error(error)
        client.post_error(request_id, error)
        return
    client.post_result(request_id, result, content_type)


def main():
    sys.stdout = Unbuffered(sys.stdout)
    sys.stderr = Unbuffered(sys.stderr)
    task_root = os.environ.get("LAMBDA_TASK_ROOT") or os.getcwd()
    # Run as `python bootstrap.py`, sys.path[0] is this script's directory: user code comes first instead.
    sys.path[0] = task_root
    handler_name = os.environ.get("_HANDLER") or (sys.argv[1] if len(sys.argv) > 1 else "")
    client = RuntimeClient(os.environ["AWS_LAMBDA_RUNTIME_API"])

    try:
        setup_logging()
        handler = load_handler(handler_name)
    except Exception as e:
        error = error_from_exception(e)
        log_error(error)
        client.post_init_error(error)
        sys.exit(1)

    while True:
        resp, body = client.next_invocation()
        handle_invocation(client, handler, resp, body)


if __name__ == "__main__":
    main()
