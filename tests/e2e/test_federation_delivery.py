"""Hub-to-hub delivery (issue 4, "Delivery", "Provenance", "Live events"): A pushes to its partner
B; the receipt says delivered (API and CLI); the object at B is the object A published (minus the
signature) and its signature verifies with A's published key, checked by an independent Ed25519 +
RFC 8785 implementation (stix_sig.py); B's event stream shows it; A's shows the receipt.

Hubs: A <-> B partners (A pushes its default collection to B, up to RED, and lets B pull it);
B <-> C partners (B pushes what it receives onward to C up to GREEN, and lets C pull it; C also
has a pull channel that polls B's inbox into C's default collection).
"""

import json
import unittest

import stix_sig
from federation import (FederationTestCase, EventStream, channel, partner, partner_auth,
                        tlp_indicator, wait_until, without_signature)


class DeliveryTest(FederationTestCase):
    HUBS = [("a", "Agency A"), ("b", "Agency B"), ("c", "Agency C")]

    @classmethod
    def configure(cls):
        a, b, c = cls.a, cls.b, cls.c
        partner(a, b)
        partner(b, c)
        channel(a, b, a.default_collection, max_tlp="red", allow_pull=True)
        channel(b, c, b.inbox, max_tlp="green", allow_pull=True)
        channel(c, b, c.default_collection, mode="pull", max_tlp="green",
                remote_collection=b.inbox)

    def test_push_receipt_identical_object_and_events(self):
        a, b = self.a, self.b
        with EventStream(b, b.basic(b.admin_user)) as b_events, \
                EventStream(a, a.basic(a.admin_user)) as a_events:
            self.assertEqual(b_events.status, 200, b_events.error_body)
            self.assertIn("text/event-stream", b_events.headers.get("content-type", ""))
            obj = tlp_indicator("amber", recipients=[b.identity_id],
                                description="delivery test \u00e9\u20ac")
            status = a.publish_ok([obj])
            self.assertEqual([s["id"] for s in status["successes"]], [obj["id"]])

            got = b.wait_object(b.inbox, obj["id"])
            self.assertEqual(len(got), 1, got)
            # What B's own people read is what A's publisher wrote, byte for byte in meaning.
            self.assertEqual(without_signature(got[0]), obj)
            self.assertEqual(without_signature(b.get_object(b.inbox, obj["id"], user="reader")[0]),
                             obj)

            rows = a.wait_receipts(obj["id"], {b.identity_id: "delivered"})
            self.assertEqual(len(rows), 1, rows)
            self.assertTrue(rows[0].get("delivered_at"), rows)
            self.assertFalse(rows[0].get("error"), rows)

            ev = b_events.wait(lambda e: e["event"] == "object" and isinstance(e["data"], dict)
                               and e["data"].get("id") == obj["id"])
            self.assertEqual(ev["data"].get("collection"), b.inbox, ev)
            self.assertEqual(ev["data"].get("type"), "indicator", ev)
            self.assertEqual(ev["data"].get("tlp"), "amber", ev)
            self.assertTrue(ev["id"], "events carry an id for Last-Event-ID: %r" % ev)

            ev = a_events.wait(lambda e: e["event"] == "receipt" and isinstance(e["data"], dict)
                               and e["data"].get("object") == obj["id"]
                               and e["data"].get("state") == "delivered")
            self.assertEqual(ev["data"].get("partner"), b.identity_id, ev)

        # The CLI shows the same receipt.
        out = a.cli_data("receipts", "--object", obj["id"]).stdout
        self.assertIn("delivered", out)
        self.assertTrue(b.identity_id in out or b.org in out, out)
        out = a.cli_data("receipts", "--object", obj["id"], "--state", "failed").stdout
        self.assertNotIn(obj["id"], out)

    def test_signature_verifies_at_every_hop(self):
        a, b, c = self.a, self.b, self.c
        obj = tlp_indicator("green", n=2)
        a.publish_ok([obj])
        # Onward: B pushes GREEN to C; C verified A's signature before storing it.
        stored_c = c.wait_object(c.inbox, obj["id"])
        self.assertEqual(without_signature(stored_c[0]), obj)
        a.wait_receipts(obj["id"], {b.identity_id: "delivered"})
        b.wait_receipts(obj["id"], {c.identity_id: "delivered"})

        # The wire form B serves to its partner C is signed by A (the origin), not by B.
        wire = b.get_object(b.inbox, obj["id"], auth=partner_auth(b, c))
        self.assertEqual(len(wire), 1, wire)
        block = wire[0].get("x_liaison_signature")
        self.assertIsInstance(block, dict, wire)
        self.assertEqual(block.get("hub"), a.identity_id)
        self.assertEqual(block.get("key"), a.identity["sign_key"])
        self.assertIsNone(stix_sig.check_signature(wire[0], a.identity["sign_key"]))
        self.assertEqual(without_signature(wire[0]), obj)

        # So is what A serves to B when B pulls.
        wire_a = a.get_object(a.default_collection, obj["id"], auth=partner_auth(a, b))
        self.assertEqual(len(wire_a), 1, wire_a)
        self.assertIsNone(stix_sig.check_signature(wire_a[0], a.identity["sign_key"]))

        # Changing one character of the object breaks the signature (the checker is not blind).
        tampered = json.loads(json.dumps(wire[0]))
        tampered["name"] += "!"
        self.assertIsNotNone(stix_sig.check_signature(tampered, a.identity["sign_key"]))

    def test_amber_not_pushed_onward(self):
        a, b, c = self.a, self.b, self.c
        obj = tlp_indicator("amber", n=3, recipients=[b.identity_id])
        marker = tlp_indicator("green", n=4)
        a.publish_ok([obj])
        a.publish_ok([marker])
        c.wait_object(c.inbox, marker["id"])
        b.wait_object(b.inbox, obj["id"])
        # B has the AMBER object but queued nothing for C; C never got it.
        self.assertEqual(b.receipts(object_id=obj["id"]), [])
        self.assertEqual(c.get_object(c.inbox, obj["id"]), [])

    def test_new_version_follows_in_order(self):
        a, b = self.a, self.b
        v1 = tlp_indicator("green", n=5)
        v2 = dict(v1, modified="2024-03-02T00:00:00.000Z", name="second version")
        v3 = dict(v1, modified="2024-03-03T00:00:00.000Z", name="third version")
        a.publish_ok([v1])
        a.publish_ok([v2])
        a.publish_ok([v3])
        versions = wait_until(lambda: len(b.versions(b.inbox, v1["id"])) == 3
                              and b.versions(b.inbox, v1["id"]),
                              what="three versions at B")
        self.assertEqual(len(versions), 3, versions)
        latest = b.get_object(b.inbox, v1["id"])
        self.assertEqual(without_signature(latest[0]), v3)
        rows = a.receipts(object_id=v1["id"])
        self.assertEqual(len(rows), 3, rows)
        wait_until(lambda: all(r["state"] == "delivered"
                               for r in a.receipts(object_id=v1["id"])),
                   what="three delivered receipts")

    def test_pull_channel(self):
        a, b, c = self.a, self.b, self.c
        obj = tlp_indicator("green", n=7)
        amber = tlp_indicator("amber", n=8, recipients=[b.identity_id])
        a.publish_ok([amber, obj])
        # C's puller polls B's inbox (persisted added_after cursor) into C's default collection.
        got = c.wait_object(c.default_collection, obj["id"])
        self.assertEqual(without_signature(got[0]), obj)
        self.assertEqual(len(c.versions(c.default_collection, obj["id"])), 1)
        # What B may not disclose to C is not pulled either.
        b.wait_object(b.inbox, amber["id"])
        self.assertEqual(c.get_object(c.default_collection, amber["id"]), [])
        # A later object comes through the same cursor; nothing earlier is fetched twice.
        later = tlp_indicator("green", n=9)
        a.publish_ok([later])
        c.wait_object(c.default_collection, later["id"])
        self.assertEqual(len(c.versions(c.default_collection, obj["id"])), 1)

    def test_partner_token_is_required(self):
        a, b = self.a, self.b
        obj = tlp_indicator("green", n=6)
        signed = stix_sig.sign_object(obj, a.identity_id, b"\x01" * 32)
        # Unauthenticated and reader-role callers cannot use B's inbox as A.
        r = b.request("POST", b.objects_path(b.inbox), body={"objects": [signed]})
        self.assertEqual(r.status, 401, r.describe())
        r = b.request("POST", b.objects_path(b.inbox), body={"objects": [signed]},
                      auth="Bearer lsk_notakey.nosecret")
        self.assertEqual(r.status, 401, r.describe())


if __name__ == "__main__":
    unittest.main()
