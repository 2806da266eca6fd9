# Schemathesis hooks for `npm run fuzz` (scripts/fuzz.ts sets the FUZZ_* variables).
# - signs webhook requests over the exact bytes sent: X-Signature for the event feed, X-Twilio-Signature
#   over the request URL and the form parameters as the server parses them;
# - points some generated ids at the ones seeded for this run, so requests reach live calls, agents and numbers;
#   an account's key gets its own ids and the other account's (FUZZ_SEEDS mixes them half and half);
# - flags any answer to an account's credential that carries another account's data (FUZZ_FOREIGN) as a leak;
# - logs every request (kind, operation, status, the call ids it named, leaks) as one JSON line to FUZZ_LOG.
import base64
import hashlib
import hmac
import json
import os
import threading
import time
from urllib.parse import unquote, unquote_to_bytes

import requests
import schemathesis
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation import GenerationMode

KIND = os.environ["FUZZ_KIND"]  # admin | chat | webhook | account-a | account-b
API = os.environ["FUZZ_API"]
LOG = os.environ["FUZZ_LOG"]
# Ids to point requests at: {"calls", "numbers", "voiceCalls", "agents", "accounts", "keys"}, each a list.
SEEDS = json.loads(os.environ["FUZZ_SEEDS"])
# The account the credential belongs to (absent for the platform key and webhooks, which reach every account).
ACCOUNT = os.environ.get("FUZZ_ACCOUNT") or None
# What no answer to this credential may carry: {"ids": [call, agent, key and account ids, agent and caller names], "numbers": [...]}.
FOREIGN = json.loads(os.environ.get("FUZZ_FOREIGN") or '{"ids": [], "numbers": []}')
# An account's key: its ids stand in for more than call ids and numbers, in the query and body too.
ACCOUNT_KIND = KIND.startswith("account-")
WEBHOOK_SECRET = os.environ.get("FUZZ_WEBHOOK_SECRET", "")
TWILIO_TOKEN = os.environ.get("FUZZ_TWILIO_TOKEN", "")

_lock = threading.Lock()


def _positive(case, location):
    """True when this part of the request was generated valid (so replacing it keeps the case's intent)."""
    meta = case.meta
    info = meta.components.get(location) if meta is not None else None
    return info is None or info.mode == GenerationMode.POSITIVE


def _pick(pool, value):
    """
    Half of the generated ids (chosen by their hash, so a case replays the same) become a seeded one; three in
    four for an account's key, whose pool is half the other account's: most of its requests reach a real row.
    """
    digest = hashlib.sha256(str(value).encode("utf-8", "surrogatepass")).digest()
    chosen = digest[0] % 4 != 0 if ACCOUNT_KIND else digest[0] % 2 == 0
    return pool[digest[1] % len(pool)] if pool and chosen else None


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


# The webhooks these hooks sign (the feed's and Twilio's secrets are the stack's); other providers' go unsigned.
SIGNED_PATHS = ("/v1/webhooks/events", "/v1/webhooks/twilio")
# Path parameters that take a seeded id, and the pool each draws from.
PATH_POOLS = {"callId": "calls", "number": "numbers", "agentId": "agents", "accountId": "accounts", "keyId": "keys"}
# Body fields an account's key points at seeded ids, by operation: starting a call with another account's call id,
# agent or account, creating an agent under another's id, assigning one's number to another's agent.
BODY_POOLS = {
    ("POST", "/v1/calls"): {"callId": "calls", "agentId": "agents", "accountId": "accounts"},
    ("POST", "/v1/agents"): {"agentId": "agents", "accountId": "accounts"},
    ("PUT", "/v1/numbers/{number}"): {"agentId": "agents"},
}
# Query parameters likewise: `?accountId=` on every operation that takes it, a caller's number on the call list.
QUERY_POOLS = {"accountId": "accounts"}
LIST_QUERY_POOLS = {"accountId": "accounts", "from": "numbers"}


def _repoint(values, pools):
    """The values with some of those named in pools replaced by a seeded id; None when nothing changed."""
    changed = dict(values)
    for name, pool in pools.items():
        if name in changed and changed[name] is not None:
            seeded = _pick(SEEDS.get(pool, []), changed[name])
            if seeded:
                changed[name] = seeded
    return changed if changed != values else None


@schemathesis.hook
def before_call(context, case, kwargs):
    path = case.operation.path
    method = case.method.upper()
    if KIND != "webhook" and _positive(case, ParameterLocation.PATH) and case.path_parameters:
        pools = PATH_POOLS if ACCOUNT_KIND else {"callId": "calls", "number": "numbers"}
        changed = _repoint(case.path_parameters, pools)
        if changed:
            case.path_parameters = changed
    if ACCOUNT_KIND and isinstance(case.query, dict) and _positive(case, ParameterLocation.QUERY):
        changed = _repoint(case.query, LIST_QUERY_POOLS if (method, path) == ("GET", "/v1/calls") else QUERY_POOLS)
        if changed:
            case.query = changed
    if ACCOUNT_KIND and (method, path) in BODY_POOLS and isinstance(case.body, dict) and _positive(case, ParameterLocation.BODY):
        changed = _repoint(case.body, BODY_POOLS[(method, path)])
        if changed:
            case.body = changed
    if KIND != "webhook" or path not in SIGNED_PATHS:
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


def _decoded(value):
    return None if value is None else unquote(str(value))


def _named_ids(case, sent_body):
    """The call ids (and Twilio caller) a request named, as the server received them."""
    ids, caller = [], None
    params = case.path_parameters or {}
    if "callId" in params:
        ids.append(_decoded(params["callId"]))
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


def _objects(value):
    """Every JSON object in a value, nested ones included."""
    if isinstance(value, dict):
        yield value
        for v in value.values():
            yield from _objects(v)
    elif isinstance(value, list):
        for v in value:
            yield from _objects(v)


WRITES = ("POST", "PUT", "PATCH")
CREATES = ("/v1/agents", "/v1/calls")


def _claimed_so_far():
    """
    What of the other account's this credential has made its own: identifiers named by a write it was granted
    with no leak in the answer (a number it assigned or gave a profile; an id the other account freed and this
    one created). Read from the request log: each schemathesis round is a new process.
    """
    claimed = set()
    if ACCOUNT is None or not os.path.exists(LOG):
        return claimed
    with open(LOG, encoding="utf-8") as f:
        for raw in f:
            if '"claimed"' in raw:
                line = json.loads(raw)
                if line.get("kind") == KIND:
                    claimed.update(line["claimed"])
    return claimed


_claimed = _claimed_so_far()


def leaks(status, body: bytes, sent: str, claims=()):
    """
    What of another account's an answer carries, given the request as sent (its decoded URL and body).
    - An error may echo what the request named ("no call X" for another account's X): an identifier the request
      carried is no leak there; anything else of the other account's in it is.
    - A 2xx answer carries nothing of the other account's, whatever the request named, unless this credential
      claimed it (_claimed_so_far, or `claims`: what this very request claims, which its answer may echo), and
      every accountId in it is the credential's own (a claimed id in another account's row is still a leak).
    Numbers count too: a caller profile of the same number is per account, and a freed number may be assigned
    anew, but a credential only ever reaches its own by naming it first.
    """
    text = body.decode("utf-8", errors="replace")
    ok = 200 <= status < 300
    found = []
    for ident in FOREIGN["ids"] + FOREIGN["numbers"]:
        if ident in text and ident not in _claimed and ident not in claims and not (not ok and ident in sent):
            found.append(ident)
    if ok:
        try:
            doc = json.loads(text) if text else None
        except ValueError:
            doc = None
        for obj in _objects(doc):
            if ACCOUNT is not None and "accountId" in obj and obj["accountId"] != ACCOUNT:
                found.append(f"accountId {obj['accountId']!r}")
    return sorted(set(found))


@schemathesis.hook
def after_call(context, case, response):
    sent = response.request.body
    if isinstance(sent, str):
        sent = sent.encode("utf-8")
    ids, caller = _named_ids(case, sent)
    created = agent = None
    accepted = 200 <= response.status_code < 300
    if case.operation.path in ("/v1/calls", "/v1/agents") and case.method.upper() == "POST" and accepted:
        try:
            answer = json.loads(response.content)
            created, agent = (answer.get("callId"), None) if case.operation.path == "/v1/calls" else (None, answer.get("agentId"))
        except (ValueError, AttributeError):
            pass
    if agent is None and case.operation.path.startswith("/v1/agents/"):
        agent = _decoded((case.path_parameters or {}).get("agentId"))
    headers = {k.lower(): v for k, v in (response.request.headers or {}).items()}
    line = {
        "kind": KIND,
        "method": case.method.upper(),
        "path": case.operation.path,
        "status": response.status_code,
        "ids": ids,
        "created": created,
        "caller": caller,
        # As the server reads it: values schemathesis took from earlier answers come percent-encoded.
        "number": _decoded((case.path_parameters or {}).get("number")),
        "agent": agent,
        # Whose rows the credential reaches: null for the platform key and webhooks (every account).
        "account": ACCOUNT,
        "phase": case.meta.phase.name.value if case.meta is not None else None,
        "signed": case.operation.path in SIGNED_PATHS
        and bool(headers.get("x-signature") or headers.get("x-twilio-signature"))
        and _positive(case, ParameterLocation.HEADER),
    }
    if ACCOUNT is not None and KIND != "webhook":
        sent_text = unquote(response.request.url or "") + "\n" + (sent or b"").decode("utf-8", errors="replace")
        # Whether the request named another account's id or number: how often the fuzzer tried them.
        named = [i for i in FOREIGN["ids"] + FOREIGN["numbers"] if i in sent_text]
        line["foreign"] = bool(named)
        # A granted write claims the numbers it names; ids only by creating (an id the other account freed).
        created_here = response.status_code == 201 and case.method.upper() == "POST" and case.operation.path in CREATES
        claims = [i for i in named if i in FOREIGN["numbers"] or created_here] if accepted and case.method.upper() in WRITES else []
        found = leaks(response.status_code, response.content or b"", sent_text, claims)
        if claims and not found:
            line["claimed"] = claims
            _claimed.update(claims)
        if found:
            line["leak"] = found
            line["url"] = response.request.url
            line["sent"] = (sent or b"")[:500].decode("utf-8", errors="replace")
    if response.status_code >= 500 or "leak" in line:
        line["body"] = response.content[:500].decode("utf-8", errors="replace")
    with _lock, open(LOG, "a", encoding="utf-8") as f:
        f.write(json.dumps(line) + "\n")


@schemathesis.hook
def after_network_error(context, case, request):
    with _lock, open(LOG, "a", encoding="utf-8") as f:
        f.write(json.dumps({"kind": KIND, "method": case.method.upper(), "path": case.operation.path, "status": 0}) + "\n")
