"""fcgispec probe app, contract version 1, as a WSGI application (PEP 3333) for uWSGI's FastCGI socket.

The contract is reference/probe/README.md; the reference app and this file answer alike, except:

- echo-data: WSGI has no FCGI_DATA, so the answer is 501 "not implemented\n".
- stderr: wsgi.errors goes to uWSGI's own log, not to FCGI_STDERR, so the answer is 501 "not implemented\n".
- PROBE_EXIT is checked (400 when malformed) but cannot set appStatus: uWSGI always sends 0.
- The environ holds uWSGI's and WSGI's own keys (wsgi.*, uwsgi.*) besides the params: use PROBE_PREFIX with
  echo-params. Params arrive as latin-1 strings (PEP 3333), so they are encoded back as latin-1: bytes in,
  the same bytes out.
"""

import re
import time

CONTRACT_VERSION = 1
REASONS = {200: "OK", 400: "Bad Request", 403: "Forbidden", 404: "Not Found", 501: "Not Implemented"}
STATUS = re.compile(r"\A[1-5][0-9][0-9]\Z")


def number(environ, name, digits, maximum):
    """A decimal param of 1..digits digits, at most maximum: None when absent, -1 when malformed."""
    raw = environ.get(name)
    if raw is None:
        return None
    if not re.fullmatch(r"[0-9]{1,%d}" % digits, raw) or int(raw) > maximum:
        return -1
    return int(raw)


def params_of(environ):
    """The FastCGI params: str values of upper-case-ish names, without WSGI's and uWSGI's own keys."""
    return {k: v for k, v in environ.items() if isinstance(v, str) and not k.startswith(("wsgi.", "uwsgi."))}


def read_stdin(environ):
    stream = environ["wsgi.input"]
    chunks = []
    while True:
        chunk = stream.read(65536)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def application(environ, start_response):
    params = params_of(environ)
    stdin = read_stdin(environ)  # input before output

    def answer(status, body, extra=(), reason=None):
        body = body if isinstance(body, bytes) else body.encode("latin-1")
        start_response(
            "%d %s" % (status, reason or REASONS.get(status, "Probe")),
            [("Content-Type", "application/octet-stream"), *extra],
        )
        return [body]

    if number(params, "PROBE_EXIT", 10, 4294967295) == -1:
        return answer(400, "bad PROBE_EXIT\n")
    if params.get("FCGI_ROLE") == "AUTHORIZER":
        if params.get("PROBE_AUTH") == "allow":
            return answer(200, "authorized\n", [("Variable-PROBE", "ok")])
        return answer(403, "forbidden\n")
    action = params.get("PROBE_ACTION", "echo-stdin")
    if action == "echo-stdin":
        return answer(200, stdin)
    if action in ("echo-data", "stderr"):
        return answer(501, "not implemented\n")
    if action == "echo-param":
        name = params.get("PROBE_NAME")
        if name is None:
            return answer(400, "bad PROBE_NAME\n")
        if name not in params:
            return answer(404, "no such param\n")
        return answer(200, params[name])
    if action == "echo-params":
        prefix = params.get("PROBE_PREFIX", "")
        # latin-1 strings compare by code point, which is the byte value: bytewise.
        names = sorted(n for n in params if n.startswith(prefix))
        return answer(200, "".join("%s=%s\n" % (n, params[n]) for n in names))
    if action == "bulk":
        size = number(params, "PROBE_SIZE", 10, 1073741824)
        if size is None or size < 0:
            return answer(400, "bad PROBE_SIZE\n")
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return bulk(size)
    if action == "sleep":
        ms = number(params, "PROBE_MS", 6, 600000)
        if ms is None or ms < 0:
            return answer(400, "bad PROBE_MS\n")
        time.sleep(ms / 1000)
        return answer(200, "slept\n")
    if action == "status":
        status = params.get("PROBE_STATUS", "")
        if not STATUS.match(status):
            return answer(400, "bad PROBE_STATUS\n")
        return answer(int(status), "status\n", reason="Probe")
    return answer(400, "unknown action\n")


def bulk(size):
    block = b"0123456789" * 6552
    left = size
    while left > 0:
        chunk = block if left >= len(block) else block[:left]
        left -= len(chunk)
        yield chunk
