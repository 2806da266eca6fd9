# Schemathesis hooks for `npm run fuzz` (scripts/fuzz.ts sets the FUZZ_* variables).
# - signs webhook requests over the exact bytes sent: X-Signature for the event feed, X-Twilio-Signature
#   over the request URL and the form parameters as the server parses them;
# - points some generated call ids at the calls seeded for this run, so requests reach live calls;
# - logs every request (kind, operation, status, the call ids it named) as one JSON line to FUZZ_LOG.
import base64
import hashlib
import hmac
import json
import os
import threading
import time
from urllib.parse import unquote_to_bytes

import requests
import schemathesis
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation import GenerationMode

KIND = os.environ["FUZZ_KIND"]  # admin | chat | webhook
API = os.environ["FUZZ_API"]
LOG = os.environ["FUZZ_LOG"]
SEEDS = json.loads(os.environ["FUZZ_SEEDS"])  # {"calls": [...], "voiceCalls": [...]}
WEBHOOK_SECRET = os.environ.get("FUZZ_WEBHOOK_SECRET", "")
TWILIO_TOKEN = os.environ.get("FUZZ_TWILIO_TOKEN", "")

_lock = threading.Lock()


def _positive(case, location):
    """True when this part of the request was generated valid (so replacing it keeps the case's intent)."""
    meta = case.meta
    info = meta.components.get(location) if meta is not None else None
    return info is None or info.mode == GenerationMode.POSITIVE


def _pick(pool, value):
    """Half of the generated ids (chosen by their hash, so a case replays the same) become a seeded call."""
    digest = hashlib.sha256(str(value).encode("utf-8", "surrogatepass")).digest()
    return pool[digest[1] % len(pool)] if pool and digest[0] % 2 == 0 else None


def _set_header(case, name, value):
    headers = case.headers if isinstance(case.headers, dict) else {}
    for key in [k for k in headers if k.lower() == name.lower()]:
        del headers[key]
    headers[name] = value
    case.headers = headers


def _prepared(case, kwargs):
    """The request exactly as requests will send it, so a signature covers the very bytes on the wire."""
    data = case.as_transport_kwargs(base_url=API)
    req = requests.Request(
        method=data["method"], url=data["url"], params=data.get("params"), headers=data.get("headers"),
        data=data.get("data"), json=data.get("json"),
    )
    return req.prepare()


def form_params(body: bytes):
    """application/x-www-form-urlencoded as WHATWG URLSearchParams parses it (the server's formParams)."""
    text = body.decode("utf-8-sig", errors="replace")  # Request.text(): UTF-8, BOM stripped, errors replaced
    params = {}
    for pair in text.split("&"):
        if not pair:
            continue
        name, _, value = pair.partition("=")
        decode = lambda s: unquote_to_bytes(s.replace("+", " ")).decode("utf-8", errors="replace")
        params.setdefault(decode(name), []).append(decode(value))
    return params


def _utf16(s):
    return s.encode("utf-16-be", "surrogatepass")  # JavaScript sorts strings by UTF-16 code units


def twilio_signature(token, url, params):
    data = url
    for name in sorted(params, key=_utf16):
        values = params[name]
        if len(values) == 1:
            data += name + values[0]
        else:  # twilio's toFormUrlEncodedParam: distinct values, sorted
            data += "".join(name + v for v in sorted(set(values), key=_utf16))
    return base64.b64encode(hmac.new(token.encode(), data.encode("utf-8", "surrogatepass"), hashlib.sha1).digest()).decode()


def feed_signature(secret, body: bytes, t=None):
    t = int(time.time()) if t is None else t
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


@schemathesis.hook
def before_call(context, case, kwargs):
    path = case.operation.path
    if KIND in ("admin", "chat") and _positive(case, ParameterLocation.PATH):
        for name, pool in (("callId", SEEDS["calls"]), ("number", SEEDS.get("numbers", []))):
            seeded = _pick(pool, case.path_parameters[name]) if name in (case.path_parameters or {}) else None
            if seeded:
                case.path_parameters = {**case.path_parameters, name: seeded}
    if KIND != "webhook" or not path.startswith("/v1/webhooks/"):
        return
    if path == "/v1/webhooks/events" and isinstance(case.body, dict) and _positive(case, ParameterLocation.BODY):
        if case.body.get("type") != "call.started" and isinstance(case.body.get("callId"), str):
            seeded = _pick(SEEDS["voiceCalls"], case.body["callId"])
            if seeded:
                case.body = {**case.body, "callId": seeded}
    # A negated header is the case's point (a missing signature must be refused): leave it unsigned.
    if not _positive(case, ParameterLocation.HEADER):
        return
    prepared = _prepared(case, kwargs)
    body = prepared.body if prepared.body is not None else b""
    if isinstance(body, str):
        body = body.encode("utf-8")
    if path == "/v1/webhooks/events":
        _set_header(case, "x-signature", feed_signature(WEBHOOK_SECRET, body))
    else:
        _set_header(case, "x-twilio-signature", twilio_signature(TWILIO_TOKEN, prepared.url, form_params(body)))
    # Send these very bytes: the transport would serialize the body again otherwise.
    kwargs["data"] = body


def _named_ids(case, sent_body):
    """The call ids (and Twilio caller) a request named, as the server received them."""
    ids, caller = [], None
    params = case.path_parameters or {}
    if "callId" in params:
        ids.append(str(params["callId"]))
    path = case.operation.path
    if path in ("/v1/calls", "/v1/webhooks/events") and case.method.upper() == "POST":
        try:
            body = json.loads(sent_body) if sent_body else None
        except ValueError:
            body = None
        if isinstance(body, dict) and body.get("callId") is not None:
            ids.append(str(body["callId"]))
    if path == "/v1/webhooks/twilio":
        params = form_params(sent_body or b"")
        ids.extend(params.get("CallSid", []))
        caller = (params.get("From") or [None])[-1]
    return ids, caller


@schemathesis.hook
def after_call(context, case, response):
    sent = response.request.body
    if isinstance(sent, str):
        sent = sent.encode("utf-8")
    ids, caller = _named_ids(case, sent)
    created = None
    if case.operation.path == "/v1/calls" and case.method.upper() == "POST" and 200 <= response.status_code < 300:
        try:
            created = json.loads(response.content).get("callId")
        except (ValueError, AttributeError):
            pass
    headers = {k.lower(): v for k, v in (response.request.headers or {}).items()}
    line = {
        "kind": KIND,
        "method": case.method.upper(),
        "path": case.operation.path,
        "status": response.status_code,
        "ids": ids,
        "created": created,
        "caller": caller,
        "number": (case.path_parameters or {}).get("number"),
        "phase": case.meta.phase.name.value if case.meta is not None else None,
        "signed": bool(headers.get("x-signature") or headers.get("x-twilio-signature")) and _positive(case, ParameterLocation.HEADER),
    }
    if response.status_code >= 500:
        line["body"] = response.content[:500].decode("utf-8", errors="replace")
    with _lock, open(LOG, "a", encoding="utf-8") as f:
        f.write(json.dumps(line) + "\n")


@schemathesis.hook
def after_network_error(context, case, request):
    with _lock, open(LOG, "a", encoding="utf-8") as f:
        f.write(json.dumps({"kind": KIND, "method": case.method.upper(), "path": case.operation.path, "status": 0}) + "\n")
