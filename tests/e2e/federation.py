"""Harness for the partnership tests (issue 4): several real hubs on loopback, partnered with the
CLI exactly as an operator would do it, plus the helpers the tests share (TLP markings, waiting for
deliveries, the event stream, receipts, feedback; direct looks at a hub's store are Hub.raw_sql
and friends in hub.py, for SQLite and PostgreSQL alike).

    a, b = FedHub("a", "Agency A"), FedHub("b", "Agency B")
    for h in (a, b): h.setup(); h.start()
    partner(a, b)                                  # identity export, partner add on both sides,
                                                   # token exchange (partner set-token)
    channel(a, b, collection=a.default_collection, max_tlp="red")   # A pushes its default
    obj = tlp_indicator("amber+strict", recipients=[b.identity_id])
    a.publish([obj])
    b.wait_object(b.inbox, obj["id"])
    a.wait_receipts(obj["id"], {b.identity_id: "delivered"})

Every hub started here is stopped by Federation.close() (SIGTERM, exit status checked).
"""

import http.client
import json
import os
import queue
import re
import socket
import threading
import time
import unittest
import uuid
from urllib.parse import quote

from hub import API_ROOT, Hub, HubError, envelope, stix_time

# How long deliveries may take on a busy shared machine before a test gives up (seconds).
DELIVERY_TIMEOUT = float(os.environ.get("LIAISON_E2E_DELIVERY_TIMEOUT", "30"))

# TLP 2.0 marking-definition ids (policy/tlp.h; OASIS TLP 2.0 marking definitions for STIX 2.1).
TLP_MARKING = {
    "clear": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "green": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "amber": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "amber+strict": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "red": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
TLP_LEVELS = ["clear", "green", "amber", "amber+strict", "red"]
# Levels a receiving hub may push onward (policy/sharing.h).
ONWARD_LEVELS = {"clear", "green"}

TOKEN_RE = re.compile(r"\b(lsk_[A-Za-z0-9_.\-]+)")


def wait_until(predicate, timeout=DELIVERY_TIMEOUT, interval=0.05, what="condition"):
    """Polls predicate() until it returns a truthy value (returned) or raises AssertionError."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = predicate()
        if last:
            return last
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.0f s waiting for %s" % (timeout, what))
        time.sleep(interval)


def tlp_indicator(level, n=0, recipients=None, name=None, description=None, pattern=None,
                  **extra):
    """A valid indicator marked with a TLP 2.0 level (None: unmarked) and, when given, the
    x_liaison_recipients that name its recipient organisations."""
    created = stix_time(2024, 3, 1)
    obj = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": "indicator--%s" % uuid.uuid4(),
        "created": created,
        "modified": created,
        "name": name or "e2e %s indicator %d" % (level or "unmarked", n),
        "indicator_types": ["malicious-activity"],
        "pattern": pattern or "[ipv4-addr:value = '10.%d.%d.%d']"
        % ((n >> 16) & 255, (n >> 8) & 255, n & 255),
        "pattern_type": "stix",
        "valid_from": created,
    }
    if description is not None:
        obj["description"] = description
    if level is not None:
        obj["object_marking_refs"] = [TLP_MARKING[level]]
    if recipients:
        obj["x_liaison_recipients"] = list(recipients)
    obj.update(extra)
    return obj


def without_signature(obj):
    return {k: v for k, v in obj.items() if k != "x_liaison_signature"}


class FedHub(Hub):
    """A hub with an organisation identity: users admin (from init), pub (publisher) and reader
    (reader); knows its identity id, inbox collection and default collection once started."""

    def __init__(self, name, org):
        super().__init__()  # its own temporary directory (data dir, stderr log, identity file)
        self.name = name
        self.org = org
        self.identity = None  # the exported identity file (parsed)
        self.identity_path = None
        self.inbox = None
        self.partner_tokens = {}  # partner hub name -> token that hub presents to us

    def setup(self):
        self.init(org=self.org)
        self.add_user("pub", "publisher")
        self.add_user("reader", "reader")

    def start(self, extra_args=(), env=None, port=0):
        super().start(extra_args=extra_args, env=env, port=port)
        if self.default_collection is None or self.inbox is None:
            self.resolve_default_collection()
            self.inbox = self.collection_by_alias("inbox")

    def collection_by_alias(self, alias):
        r = self.request("GET", API_ROOT + "collections/", auth=self.basic(self.admin_user))
        if r.status != 200:
            raise HubError("cannot list collections: " + r.describe())
        for col in r.json().get("collections", []):
            if col.get("alias") == alias:
                return col["id"]
        raise HubError("%s has no collection with alias %r: %s" % (self.name, alias,
                                                                   r.describe()))

    @property
    def api_url(self):
        return "%s%s" % (self.url, API_ROOT)

    @property
    def identity_id(self):
        return self.identity["identity"]["id"]

    def cli_data(self, *args, **kw):
        """liaison ARGS --data DIR."""
        return self.cli(*(list(args) + ["--data", self.data_dir]), **kw)

    def export_identity(self):
        """liaison identity export --url <this hub's API root> -o FILE; parses the file."""
        path = os.path.join(os.path.dirname(self.data_dir), "%s-identity.json" % self.name)
        self.cli_data("identity", "export", "--url", self.api_url, "-o", path)
        with open(path, encoding="utf-8") as f:
            self.identity = json.load(f)
        self.identity_path = path
        return self.identity

    # TAXII shorthands ------------------------------------------------------------------------

    def objects_path(self, col, query=""):
        return "%scollections/%s/objects/%s" % (API_ROOT, col, query)

    def publish(self, objects, col=None, user="pub", auth=None):
        """POSTs an envelope as `user`; returns the status resource (any 202 answer)."""
        r = self.request("POST", self.objects_path(col or self.default_collection),
                         body=envelope(objects), auth=auth or self.basic(user))
        if r.status != 202:
            raise AssertionError("publish to %s failed: %s" % (self.name, r.describe()))
        return r.json()

    def publish_ok(self, objects, col=None, user="pub"):
        status = self.publish(objects, col=col, user=user)
        if status.get("status") != "complete" or status.get("failure_count", 0) != 0 or \
                status.get("success_count") != len(objects):
            raise AssertionError("%s did not accept everything: %s" % (self.name, status))
        return status

    def get_object(self, col, obj_id, user="admin", auth=None, query=""):
        """GET .../objects/{id}/: the objects list (empty when 404)."""
        r = self.request("GET", self.objects_path(col, quote(obj_id, safe="") + "/" + query),
                         auth=auth or self.basic(self.admin_user if user == "admin" else user))
        if r.status == 404:
            return []
        if r.status != 200:
            raise AssertionError("GET object at %s: %s" % (self.name, r.describe()))
        return r.json().get("objects", [])

    def has_object(self, col, obj_id):
        return bool(self.get_object(col, obj_id))

    def wait_object(self, col, obj_id, timeout=DELIVERY_TIMEOUT):
        return wait_until(lambda: self.get_object(col, obj_id), timeout=timeout,
                          what="%s at hub %s" % (obj_id, self.name))

    def all_objects(self, col, auth=None, query="", path_kind="objects"):
        """Every object (or manifest entry) of a collection, paged with limit/next."""
        out = []
        nxt = None
        auth = auth or self.basic(self.admin_user)
        while True:
            params = ["limit=1000"]
            if query:
                params.append(query)
            if nxt:
                params.append("next=" + quote(nxt, safe=""))
            path = "%scollections/%s/%s/?%s" % (API_ROOT, col, path_kind, "&".join(params))
            r = self.request("GET", path, auth=auth)
            if r.status != 200:
                raise AssertionError("paging %s at %s: %s" % (path, self.name, r.describe()))
            body = r.json()
            out.extend(body.get("objects", []))
            if not body.get("more"):
                return out
            nxt = body.get("next")

    def versions(self, col, obj_id, auth=None):
        r = self.request("GET", "%scollections/%s/objects/%s/versions/" % (
            API_ROOT, col, quote(obj_id, safe="")), auth=auth or self.basic(self.admin_user))
        if r.status == 404:
            return []
        if r.status != 200:
            raise AssertionError("versions at %s: %s" % (self.name, r.describe()))
        return r.json().get("versions", [])

    # Liaison API -----------------------------------------------------------------------------

    def api(self, path, auth=None, user=None):
        auth = auth or self.basic(user or self.admin_user)
        return self.request("GET", "/liaison/v1/" + path, auth=auth, accept="application/json")

    def receipts(self, object_id=None, partner=None, state=None):
        params = []
        if object_id:
            params.append("object=" + quote(object_id, safe=""))
        if partner:
            params.append("partner=" + quote(partner, safe=""))
        if state:
            params.append("state=" + state)
        out = []
        after = None
        while True:
            q = list(params) + ["limit=1000"]
            if after is not None:
                q.append("after=%d" % after)
            r = self.api("receipts?" + "&".join(q))
            if r.status != 200:
                raise AssertionError("receipts at %s: %s" % (self.name, r.describe()))
            body = r.json()
            rows = body.get("receipts", [])
            out.extend(rows)
            if not body.get("more") or not rows:
                return out
            after = rows[-1]["seq"]

    def wait_receipts(self, object_id, expected, timeout=DELIVERY_TIMEOUT):
        """Waits until the receipts of object_id are exactly {partner id: state} (every partner
        in `expected`, no other partner)."""
        def check():
            rows = self.receipts(object_id=object_id)
            got = {r["partner"]: r["state"] for r in rows}
            return rows if got == expected else None
        try:
            return wait_until(check, timeout=timeout,
                              what="receipts %r for %s at %s" % (expected, object_id, self.name))
        except AssertionError:
            raise AssertionError("receipts for %s at %s are %r, expected %r" % (
                object_id, self.name, self.receipts(object_id=object_id), expected))

    def feedback(self, object_id):
        r = self.api("feedback?object=" + quote(object_id, safe=""))
        if r.status != 200:
            raise AssertionError("feedback at %s: %s" % (self.name, r.describe()))
        return r.json().get("feedback", [])

    def audit_list(self, kind=None):
        """liaison audit list (the CLI's text)."""
        args = ["audit", "list", "--limit", "100000"]
        if kind:
            args += ["--kind", kind]
        return self.cli_data(*args).stdout

    # The raw store (inspection and tampering beside the hub, on either backend): Hub.raw_sql,
    # Hub.raw_dump / raw_find, Hub.snapshot and Hub.pg_* in hub.py.


def partner(x, y):
    """Makes x and y partners the way an operator does: each exports its identity file, each adds
    the other (partner add prints the token the other hub must present), and each stores the
    token the other gave it (partner add --token on the second side, partner set-token on the
    first)."""
    if x.identity is None:
        x.export_identity()
    if y.identity is None:
        y.export_identity()
    # On x: trust y. x prints the token y must present to x.
    out = x.cli_data("partner", "add", "--identity", y.identity_path).stdout
    m = TOKEN_RE.search(out)
    if not m:
        raise HubError("partner add printed no token:\n" + out)
    token_y_uses_at_x = m.group(1)
    # On y: trust x, storing the token y presents to x. y prints the token x presents to y.
    out = y.cli_data("partner", "add", "--identity", x.identity_path,
                     "--token", token_y_uses_at_x).stdout
    m = TOKEN_RE.search(out)
    if not m:
        raise HubError("partner add printed no token:\n" + out)
    token_x_uses_at_y = m.group(1)
    x.cli_data("partner", "set-token", y.identity_id, "--token", token_x_uses_at_y)
    x.partner_tokens[y.name] = token_y_uses_at_x
    y.partner_tokens[x.name] = token_x_uses_at_y


def channel(x, y, collection, mode="push", max_tlp="red", allow_pull=False,
            remote_collection=None):
    """liaison channel add on x towards partner y."""
    args = ["channel", "add", "--partner", y.identity_id, "--collection", collection,
            "--mode", mode, "--max-tlp", max_tlp]
    if allow_pull:
        args.append("--allow-pull")
    if remote_collection:
        args += ["--remote-collection", remote_collection]
    return x.cli_data(*args).stdout


def bearer(token):
    return "Bearer " + token


def partner_auth(at, who):
    """The Authorization header hub `who` presents when it calls hub `at`."""
    return bearer(at.partner_tokens[who.name])


class EventStream:
    """A Server-Sent Events client for GET /liaison/v1/events, reading on a thread.

        with EventStream(hub, hub.basic("admin")) as events:
            ev = events.wait(lambda e: e["event"] == "object" and e["data"]["id"] == obj_id)
    """

    def __init__(self, hub, auth, last_event_id=None, timeout=DELIVERY_TIMEOUT):
        self.events = queue.Queue()
        self.received = []
        self.status = None
        self.headers = {}
        self._conn = http.client.HTTPConnection("127.0.0.1", hub.port, timeout=timeout + 30)
        hdrs = {"Accept": "text/event-stream"}
        if auth:
            hdrs["Authorization"] = auth
        if last_event_id is not None:
            hdrs["Last-Event-ID"] = str(last_event_id)
        self._conn.request("GET", "/liaison/v1/events", headers=hdrs)
        # http.client forgets the socket when the response says Connection: close; keep it so
        # close() can shut it down and wake the reader thread at once.
        self._sock = self._conn.sock
        self._resp = self._conn.getresponse()
        self.status = self._resp.status
        self.headers = {k.lower(): v for k, v in self._resp.getheaders()}
        self.error_body = None
        if self.status != 200:
            self.error_body = self._resp.read()
            self._thread = None
            return
        self._thread = threading.Thread(target=self._pump, daemon=True)
        self._thread.start()

    def _pump(self):
        fields = {}
        data_lines = []
        try:
            while True:
                raw = self._resp.readline()
                if not raw:
                    break
                line = raw.decode("utf-8", "replace").rstrip("\r\n")
                if line == "":
                    if data_lines or fields:
                        text = "\n".join(data_lines)
                        try:
                            data = json.loads(text) if text else None
                        except ValueError:
                            data = text
                        ev = {"id": fields.get("id"), "event": fields.get("event", "message"),
                              "data": data, "arrived": time.monotonic()}
                        self.events.put(ev)
                    fields, data_lines = {}, []
                    continue
                if line.startswith(":"):
                    continue  # comment (heartbeat)
                name, _, value = line.partition(":")
                if value.startswith(" "):
                    value = value[1:]
                if name == "data":
                    data_lines.append(value)
                else:
                    fields[name] = value
        except (OSError, ValueError, AttributeError, http.client.HTTPException):
            pass  # the stream ended or close() shut the socket down
        self.events.put(None)

    def wait(self, predicate, timeout=DELIVERY_TIMEOUT):
        """The first event (also among those already received) for which predicate is true."""
        for ev in self.received:
            if predicate(ev):
                return ev
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError("no matching event within %.0f s; received %r"
                                     % (timeout, self.received[-20:]))
            try:
                ev = self.events.get(timeout=remaining)
            except queue.Empty:
                continue
            if ev is None:
                raise AssertionError("event stream ended; received %r" % self.received[-20:])
            self.received.append(ev)
            if predicate(ev):
                return ev

    def drain(self, quiet=0.5):
        """Everything that arrives until the stream is quiet for `quiet` seconds."""
        while True:
            try:
                ev = self.events.get(timeout=quiet)
            except queue.Empty:
                return self.received
            if ev is None:
                return self.received
            self.received.append(ev)

    def close(self):
        try:
            if self._sock is not None:
                self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._resp.close()
        self._conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Federation:
    """Several FedHubs in one temporary directory; close() stops them all."""

    def __init__(self, *names_and_orgs):
        self.hubs = [FedHub(name, org) for name, org in names_and_orgs]

    def start_all(self):
        """init, users, serve and identity export for every hub, the hubs in parallel (password
        hashing at init makes this the slow part of a test's set-up)."""
        errors = []

        def bring_up(h):
            try:
                h.setup()
                h.start()
                h.export_identity()
            except Exception as e:  # reported below, on the test's thread
                errors.append((h.name, e))

        threads = [threading.Thread(target=bring_up, args=(h,)) for h in self.hubs]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            name, error = errors[0]
            raise HubError("hub %s did not come up: %s" % (name, error)) from error
        return self.hubs

    def close(self):
        """SIGTERM every running hub; returns {name: exit status} of those that did not exit 0."""
        bad = {}
        for h in self.hubs:
            if h.alive():
                rc = h.stop()
                if rc != 0:
                    bad[h.name] = (rc, h.log_tail())
            h.cleanup()
        return bad


class FederationTestCase(unittest.TestCase):
    """Base class: HUBS = [(name, org), ...] started once per class; configure() partners them.
    After every test each hub must still be running."""

    HUBS = [("a", "Agency A"), ("b", "Agency B")]
    fed = None

    @classmethod
    def setUpClass(cls):
        cls.fed = Federation(*cls.HUBS)
        try:
            hubs = cls.fed.start_all()
            for h in hubs:
                setattr(cls, h.name, h)
            cls.configure()
        except Exception:
            cls.fed.close()
            raise

    @classmethod
    def configure(cls):
        """Hook: partner and channel set-up with the CLI."""

    @classmethod
    def tearDownClass(cls):
        bad = cls.fed.close()
        if bad:
            raise AssertionError("hubs did not exit cleanly on SIGTERM: %r" % bad)

    def tearDown(self):
        for h in self.fed.hubs:
            if h.proc is not None:
                self.assertTrue(h.alive(), "hub %s died:\n%s" % (h.name, h.log_tail()))
