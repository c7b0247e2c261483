"""The TLP matrix of issue 4 ("Sharing policy ... enforced on every path"): every TLP 2.0 level x
every audience, for every read path (objects, object, versions, manifest, events) and for pushes,
including onward pushes by a receiving hub.

Hubs and partnerships (all set up with the CLI):

        C ---- A ---- B ---- D
      (other)  origin (named   (partner's
      partner         recipient) partner)

A pushes its default collection to B and C (channels up to RED, pull allowed); B pushes its inbox
onward to D (channel up to RED: the policy, not the channel, must stop AMBER and above) and back
to A (which must never get its own objects back). A also has a "low" collection whose channel to B
stops at CLEAR.

Audiences: own organisation (a reader of A; a reader of B for what B received), the named
recipient B (pulling from A with its partner token; its inbox), the other partner C, the partner's
partner D (via B), and unauthenticated callers.
"""

import unittest

from federation import (FederationTestCase, EventStream, channel, partner,
                        partner_auth, tlp_indicator, wait_until, without_signature)
from hub import API_ROOT

SEALED = "x-liaison-sealed"


def logical_id(obj):
    """The id of the object a wire-form entry stands for (sealed wrappers name it sealed_ref)."""
    if obj.get("type") == SEALED or obj.get("id", "").startswith(SEALED + "--"):
        return obj.get("sealed_ref", obj.get("id"))
    return obj.get("id")


class TlpMatrixTest(FederationTestCase):
    HUBS = [("a", "Agency A"), ("b", "Agency B"), ("c", "Agency C"), ("d", "Agency D")]

    @classmethod
    def configure(cls):
        a, b, c, d = cls.a, cls.b, cls.c, cls.d
        partner(a, b)
        partner(a, c)
        partner(b, d)
        channel(a, b, a.default_collection, max_tlp="red", allow_pull=True)
        channel(a, c, a.default_collection, max_tlp="red", allow_pull=True)
        channel(b, d, b.inbox, max_tlp="red", allow_pull=True)
        channel(b, a, b.inbox, max_tlp="red")
        cls.low = a.create_collection("Low")
        channel(a, b, cls.low, max_tlp="clear")

        # One object per case. Keys: case names; values: (object, who may have it).
        B, C = b.identity_id, c.identity_id
        cls.cases = {
            "clear": tlp_indicator("clear", 1),
            "green": tlp_indicator("green", 2),
            "amber-b": tlp_indicator("amber", 3, recipients=[B]),
            "amber-all": tlp_indicator("amber", 4),
            "amber+strict-b": tlp_indicator("amber+strict", 5, recipients=[B]),
            "amber+strict-none": tlp_indicator("amber+strict", 6),
            "red-b": tlp_indicator("red", 7, recipients=[B]),
            "red-bc": tlp_indicator("red", 8, recipients=[B, C]),
        }
        everything = set(cls.cases)
        cls.expect = {
            # Who holds / may read each case.
            "own-a": everything,
            "b": {"clear", "green", "amber-b", "amber-all", "amber+strict-b", "red-b", "red-bc"},
            "c": {"clear", "green", "amber-all", "red-bc"},
            "d": {"clear", "green"},
        }
        for case, obj in cls.cases.items():
            a.publish_ok([obj])
        # The sentinel: published last, CLEAR, so every audience sees it arrive after the rest.
        cls.sentinel = tlp_indicator("clear", 99, name="sentinel")
        a.publish_ok([cls.sentinel])
        cls.low_clear = tlp_indicator("clear", 10)
        cls.low_green = tlp_indicator("green", 11)
        a.publish_ok([cls.low_clear, cls.low_green], col=cls.low)

        b.wait_object(b.inbox, cls.sentinel["id"])
        c.wait_object(c.inbox, cls.sentinel["id"])
        d.wait_object(d.inbox, cls.sentinel["id"])
        b.wait_object(b.inbox, cls.low_clear["id"])
        for h in (a, b):
            wait_until(lambda h=h: not h.receipts(state="queued"),
                       what="every outbox row of %s settled" % h.name)

    # Helpers -------------------------------------------------------------------------------------

    def ids_of_cases(self, ids):
        by_id = {obj["id"]: case for case, obj in self.cases.items()}
        return {by_id[i] for i in ids if i in by_id}

    def read_paths(self, hub, col, auth):
        """{path name: set of case names visible} for objects, object, versions, manifest, events."""
        seen = {}
        seen["objects"] = self.ids_of_cases(
            logical_id(o) for o in hub.all_objects(col, auth=auth))
        seen["manifest"] = self.ids_of_cases(
            logical_id(o) for o in hub.all_objects(col, auth=auth, path_kind="manifest"))
        seen["object"] = {case for case, obj in self.cases.items()
                          if hub.get_object(col, obj["id"], auth=auth)}
        seen["versions"] = {case for case, obj in self.cases.items()
                            if hub.versions(col, obj["id"], auth=auth)}
        with EventStream(hub, auth, last_event_id=0) as events:
            self.assertEqual(events.status, 200, events.error_body)
            sentinel = self.sentinel["id"]
            events.wait(lambda e: e["event"] == "object" and isinstance(e["data"], dict)
                        and e["data"].get("id") == sentinel)
            seen["events"] = self.ids_of_cases(
                e["data"].get("id") for e in events.received
                if e["event"] == "object" and isinstance(e["data"], dict)
                and e["data"].get("collection") == col)
        return seen

    def assertPaths(self, who, seen, expected):
        wrong = {path: {"extra": sorted(got - expected), "missing": sorted(expected - got)}
                 for path, got in seen.items() if got != expected}
        self.assertEqual(wrong, {}, "%s: read paths disagree with the TLP policy" % who)

    # Own organisation ----------------------------------------------------------------------------

    def test_own_org_reads_everything_in_plaintext(self):
        a = self.a
        seen = self.read_paths(a, a.default_collection, a.basic("reader"))
        self.assertPaths("A's reader at A", seen, self.expect["own-a"])
        for case, obj in self.cases.items():
            got = a.get_object(a.default_collection, obj["id"], user="reader")
            self.assertEqual(without_signature(got[0]), obj, case)

    def test_named_recipients_own_people_read_what_arrived(self):
        b = self.b
        seen = self.read_paths(b, b.inbox, b.basic("reader"))
        self.assertPaths("B's reader at B", seen, self.expect["b"])
        for case in self.expect["b"]:
            obj = self.cases[case]
            got = b.get_object(b.inbox, obj["id"], user="reader")
            self.assertEqual(without_signature(got[0]), obj, "%s (RED is opened for B)" % case)

    def test_other_partners_people_read_only_what_arrived(self):
        c = self.c
        seen = self.read_paths(c, c.inbox, c.basic("reader"))
        self.assertPaths("C's reader at C", seen, self.expect["c"])

    def test_partners_partners_people(self):
        d = self.d
        seen = self.read_paths(d, d.inbox, d.basic("reader"))
        self.assertPaths("D's reader at D", seen, self.expect["d"])

    # Partners reading the origin (pull) ---------------------------------------------------------

    def test_named_recipient_pulls_from_origin(self):
        a, b = self.a, self.b
        seen = self.read_paths(a, a.default_collection, partner_auth(a, b))
        self.assertPaths("B's partner token at A", seen, self.expect["b"])
        # RED travels sealed even to its named recipient: no plaintext on the wire.
        for case in ("red-b", "red-bc"):
            wire = a.get_object(a.default_collection, self.cases[case]["id"],
                                auth=partner_auth(a, b))
            self.assertEqual(wire[0].get("type"), SEALED, wire)
            self.assertNotIn(self.cases[case]["name"], str(wire))

    def test_other_partner_pulls_from_origin(self):
        a, c = self.a, self.c
        seen = self.read_paths(a, a.default_collection, partner_auth(a, c))
        self.assertPaths("C's partner token at A", seen, self.expect["c"])

    def test_partners_partner_pulls_from_named_recipient(self):
        b, d = self.b, self.d
        seen = self.read_paths(b, b.inbox, partner_auth(b, d))
        self.assertPaths("D's partner token at B", seen, self.expect["d"])

    def test_origin_pulls_nothing_of_its_own_back(self):
        a, b = self.a, self.b
        # A has no pull grant on B's inbox: either 403/404 or nothing of A's own objects.
        r = b.request("GET", b.objects_path(b.inbox), auth=partner_auth(b, a))
        if r.status == 200:
            ids = {logical_id(o) for o in r.json().get("objects", [])}
            self.assertEqual(self.ids_of_cases(ids), set(), r.describe())
        else:
            self.assertIn(r.status, (403, 404), r.describe())

    # Unauthenticated -----------------------------------------------------------------------------

    def test_unauthenticated_reads_nothing(self):
        for hub, col in ((self.a, self.a.default_collection), (self.b, self.b.inbox)):
            obj_id = self.cases["clear"]["id"]
            for path in (hub.objects_path(col), hub.objects_path(col, obj_id + "/"),
                         hub.objects_path(col, obj_id + "/versions/"),
                         "%scollections/%s/manifest/" % (API_ROOT, col)):
                r = hub.request("GET", path)
                self.assertEqual(r.status, 401, "%s %s" % (hub.name, r.describe()))
            with EventStream(hub, None, last_event_id=0) as events:
                self.assertEqual(events.status, 401, events.error_body)
            r = hub.request("GET", "/liaison/v1/receipts", accept="application/json")
            self.assertEqual(r.status, 401, r.describe())

    # Pushes --------------------------------------------------------------------------------------

    def test_pushes_from_origin(self):
        a, b, c = self.a, self.b, self.c
        for case, obj in self.cases.items():
            want = {}
            if case in self.expect["b"]:
                want[b.identity_id] = "delivered"
            if case in self.expect["c"]:
                want[c.identity_id] = "delivered"
            got = {r["partner"]: r["state"] for r in a.receipts(object_id=obj["id"])}
            self.assertEqual(got, want, case)
        for hub, who in ((b, "b"), (c, "c"), (self.d, "d")):
            held = {case for case, obj in self.cases.items() if hub.get_object(hub.inbox, obj["id"])}
            self.assertEqual(held, self.expect[who], "objects held by %s" % hub.name)

    def test_onward_pushes_only_clear_and_green_never_back_to_origin(self):
        a, b, d = self.a, self.b, self.d
        for case, obj in self.cases.items():
            got = {r["partner"]: r["state"] for r in b.receipts(object_id=obj["id"])}
            want = {d.identity_id: "delivered"} if case in self.expect["d"] else {}
            self.assertEqual(got, want, "B's outbox for %s" % case)
            self.assertNotIn(a.identity_id, got, "B must never push A's object back to A")

    def test_channel_max_stops_higher_levels(self):
        a, b = self.a, self.b
        self.assertTrue(b.get_object(b.inbox, self.low_clear["id"]))
        self.assertEqual(b.get_object(b.inbox, self.low_green["id"]), [])
        self.assertEqual(a.receipts(object_id=self.low_green["id"]), [])
        self.assertEqual({r["partner"]: r["state"] for r in
                          a.receipts(object_id=self.low_clear["id"])},
                         {b.identity_id: "delivered"})


if __name__ == "__main__":
    unittest.main()
