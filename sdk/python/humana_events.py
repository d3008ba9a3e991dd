"""Humana Events helpers for Python (standard library only).

verify_webhook(body, headers, secret)  -- checks a delivery's signature (both schemes of the contract)
stream(base_url, api_key, ...)         -- Server-Sent Events generator that reconnects and resumes
"""
import base64
import hashlib
import hmac
import json
import random
import time
import urllib.error
import urllib.parse
import urllib.request

__all__ = ["WebhookVerificationError", "verify_webhook", "stream"]


class WebhookVerificationError(Exception):
    """reason: 'missing_header' | 'bad_signature' | 'stale_timestamp' | 'malformed_header'"""

    def __init__(self, reason, message):
        super().__init__(message)
        self.reason = reason


def _header(headers, name):
    for k, v in headers.items():
        if k.lower() == name:
            return v[0] if isinstance(v, (list, tuple)) else v
    return None


def _standard_key(secret):
    if secret.startswith("whsec_"):
        return base64.b64decode(secret[6:])
    return secret.encode("utf-8")


def _check_ts(raw, name, tolerance, now):
    if raw is None:
        raise WebhookVerificationError("missing_header", "Missing %s header" % name)
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 12):
        raise WebhookVerificationError("malformed_header", "%s is not unix seconds" % name)
    if abs(now - int(raw)) > tolerance:
        raise WebhookVerificationError("stale_timestamp", "%s is more than %d s away from now" % (name, tolerance))
    return raw


def verify_webhook(body, headers, secret, tolerance_seconds=300, now=None):
    """Verifies a delivery; returns the parsed JSON body or raises WebhookVerificationError.

    body: the raw request bytes; headers: any mapping (case-insensitive lookup);
    secret: one secret or a list (rotation). Accepts Standard Webhooks (webhook-id/-timestamp/-signature,
    v1 base64 HMAC of "id.ts.body") and X-Humana-Signature (hex HMAC of "ts.body").
    """
    if isinstance(body, str):
        body = body.encode("utf-8")
    secrets = [secret] if isinstance(secret, str) else [s for s in secret if s]
    if not secrets:
        raise ValueError("a secret is required")
    now = int(time.time()) if now is None else int(now)
    std_sig = _header(headers, "webhook-signature")
    humana_sig = _header(headers, "x-humana-signature")
    if std_sig is None and humana_sig is None:
        raise WebhookVerificationError("missing_header", "No webhook-signature or X-Humana-Signature header")
    failure = None
    if std_sig is not None:
        try:
            msg_id = _header(headers, "webhook-id")
            if msg_id is None:
                raise WebhookVerificationError("missing_header", "Missing webhook-id header")
            ts = _check_ts(_header(headers, "webhook-timestamp"), "webhook-timestamp", tolerance_seconds, now)
            given = []
            for part in std_sig.split(" "):
                version, _, sig = part.partition(",")
                if version == "v1" and sig:
                    try:
                        given.append(base64.b64decode(sig, validate=True))
                    except (ValueError, base64.binascii.Error):
                        pass
            if not given:
                raise WebhookVerificationError("malformed_header", "webhook-signature has no v1,<base64> signature")
            signed = ("%s.%s." % (msg_id, ts)).encode("utf-8") + body
            for s in secrets:
                expected = hmac.new(_standard_key(s), signed, hashlib.sha256).digest()
                if any(hmac.compare_digest(g, expected) for g in given):
                    return _parse(body)
            raise WebhookVerificationError("bad_signature", "No webhook-signature matches the secret")
        except WebhookVerificationError as err:
            if humana_sig is None:
                raise
            failure = err
    ts = _check_ts(_header(headers, "x-humana-timestamp"), "X-Humana-Timestamp", tolerance_seconds, now)
    sig = humana_sig.strip().lower()
    if len(sig) != 64 or any(ch not in "0123456789abcdef" for ch in sig):
        raise failure or WebhookVerificationError("malformed_header", "X-Humana-Signature is not 64 hex digits")
    signed = ts.encode("utf-8") + b"." + body
    for s in secrets:
        if hmac.compare_digest(sig, hmac.new(s.encode("utf-8"), signed, hashlib.sha256).hexdigest()):
            return _parse(body)
    raise WebhookVerificationError("bad_signature", "X-Humana-Signature does not match the secret")


def _parse(body):
    try:
        return json.loads(body.decode("utf-8"))
    except ValueError:
        return body


def stream(base_url, api_key, events=None, companions=None, user_id=None, last_event_id=None,
           max_reconnects=None, timeout=None):
    """Yields {"id", "type", "data"} from GET /api/v1/events/stream; reconnects with backoff and resumes
    with Last-Event-ID, dropping ids at or before the last one seen (no gap, no duplicate).
    Heartbeats are skipped. Errors 4xx (bad key, expired Last-Event-ID) are raised as urllib.error.HTTPError.
    `timeout` is the socket read timeout (seconds): set it above HEARTBEAT_INTERVAL_MS to detect dead peers."""
    query = {}
    if events:
        query["events"] = ",".join(events)
    if companions:
        query["companions"] = ",".join(companions)
    if user_id:
        query["userId"] = user_id
    url = base_url.rstrip("/") + "/api/v1/events/stream" + ("?" + urllib.parse.urlencode(query) if query else "")
    last = last_event_id
    failures = 0
    while True:
        headers = {"Authorization": "Bearer " + api_key, "Accept": "text/event-stream"}
        if last:
            headers["Last-Event-ID"] = last
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout) as res:
                failures = 0
                event, data, ev_id = "", [], None
                for raw in res:
                    line = raw.decode("utf-8").rstrip("\r\n")
                    if line == "":
                        if data and event not in ("heartbeat", "") and ev_id and (last is None or _after(ev_id, last)):
                            last = ev_id
                            yield {"id": ev_id, "type": event, "data": json.loads("\n".join(data))}
                        event, data, ev_id = "", [], None
                        continue
                    if line.startswith(":"):
                        continue
                    field, _, value = line.partition(":")
                    if value.startswith(" "):
                        value = value[1:]
                    if field == "event":
                        event = value
                    elif field == "data":
                        data.append(value)
                    elif field == "id":
                        ev_id = value
        except urllib.error.HTTPError as err:
            if 400 <= err.code < 500 and err.code not in (408, 429):
                raise
        except (OSError, ValueError):
            pass
        failures += 1
        if max_reconnects is not None and failures > max_reconnects:
            raise ConnectionError("stream: gave up after %d reconnects" % max_reconnects)
        delay = min(30.0, 0.5 * 2 ** (failures - 1))
        time.sleep(delay / 2 + random.random() * delay / 2)


def _after(event_id, last):
    """Event ids (evt_ + fixed-width base32) sort by time as strings."""
    if len(event_id) != len(last):
        return len(event_id) > len(last)
    return event_id > last
