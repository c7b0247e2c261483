"""Feedback to the source (issue 4): sightings (and opinions) that B creates about an object A sent
it travel back to A along the reverse channel; A lists them per object through the API and the CLI,
and its event stream shows them.

B sends feedback three ways: `liaison feedback send` (acted-on, "suspects detained"), a sighting
posted over TAXII with x_liaison_feedback, and a false positive (an opinion) from the CLI.
"""

import unittest
import uuid

from federation import (FederationTestCase, EventStream, channel, partner, stix_time,
                        tlp_indicator, wait_until)


class FeedbackTest(FederationTestCase):
    HUBS = [("a", "Agency A"), ("b", "Agency B")]

    @classmethod
    def configure(cls):
        partner(cls.a, cls.b)
        channel(cls.a, cls.b, cls.a.default_collection, max_tlp="red")

    def received_at_b(self, level="amber+strict", n=0):
        a, b = self.a, self.b
        obj = tlp_indicator(level, n, recipients=[b.identity_id])
        a.publish_ok([obj])
        b.wait_object(b.inbox, obj["id"])
        return obj

    def feedback_send(self, obj_id, outcome, note=None):
        b = self.b
        args = ["feedback", "send", "--url", b.api_url, "--user", "pub", "--password-stdin",
                "--collection", b.default_collection, "--object", obj_id, "--outcome", outcome]
        if note is not None:
            args += ["--note", note]
        return b.cli(*args, input=b.passwords["pub"] + "\n")

    def wait_feedback(self, obj_id, count):
        return wait_until(lambda: len(self.a.feedback(obj_id)) >= count and
                          self.a.feedback(obj_id), what="%d feedback records at A" % count)

    def test_acted_on_feedback_reaches_origin(self):
        a, b = self.a, self.b
        obj = self.received_at_b(n=1)
        with EventStream(a, a.basic(a.admin_user)) as events:
            self.feedback_send(obj["id"], "acted-on", "suspects detained")
            records = self.wait_feedback(obj["id"], 1)
            ev = events.wait(lambda e: e["event"] == "feedback" and isinstance(e["data"], dict)
                             and e["data"].get("about") == obj["id"])
            self.assertEqual(ev["data"].get("outcome"), "acted-on", ev)
        self.assertEqual(len(records), 1, records)
        rec = records[0]
        self.assertEqual(rec["about"], obj["id"])
        self.assertEqual(rec["from"], b.identity_id)
        self.assertEqual(rec["outcome"], "acted-on")
        self.assertEqual(rec["note"], "suspects detained")
        self.assertTrue(rec["feedback_id"].startswith("sighting--"), rec)

        out = a.cli_data("feedback", "list", "--object", obj["id"]).stdout
        self.assertIn("acted-on", out)
        self.assertIn("suspects detained", out)
        # The sighting also has a receipt at B: delivered to A. B records receipts on its own
        # thread after A's answer, so A can hold the feedback a moment before B's receipt says so.
        def settled():
            got = {r["partner"]: r["state"]
                   for r in b.receipts(object_id=rec["feedback_id"])}
            return got if got.get(a.identity_id, "queued") != "queued" else None
        states = wait_until(settled, what="B's receipt of the sighting")
        self.assertEqual(states, {a.identity_id: "delivered"})
        # Readers of A may not list feedback (admins and publishers only).
        r = a.api("feedback?object=" + obj["id"], user="reader")
        self.assertEqual(r.status, 403, r.describe())

    def test_sighting_over_taxii_and_false_positive(self):
        a, b = self.a, self.b
        obj = self.received_at_b(level="amber", n=2)
        now = stix_time(2024, 6, 1)
        sighting = {
            "type": "sighting", "spec_version": "2.1", "id": "sighting--%s" % uuid.uuid4(),
            "created": now, "modified": now, "sighting_of_ref": obj["id"], "count": 3,
            "x_liaison_feedback": {"outcome": "seen", "note": "three hits at the border"},
        }
        b.publish_ok([sighting])
        self.feedback_send(obj["id"], "false-positive", "shared hosting address")
        records = wait_until(lambda: len(a.feedback(obj["id"])) >= 2 and a.feedback(obj["id"]),
                             what="two feedback records")
        by_outcome = {r["outcome"]: r for r in records}
        self.assertEqual(set(by_outcome), {"seen", "false-positive"}, records)
        self.assertEqual(by_outcome["seen"]["count"], 3)
        self.assertEqual(by_outcome["seen"]["note"], "three hits at the border")
        self.assertEqual(by_outcome["seen"]["feedback_id"], sighting["id"])
        self.assertEqual(by_outcome["false-positive"]["note"], "shared hosting address")
        for r in records:
            self.assertEqual(r["from"], b.identity_id)

    def test_feedback_about_unknown_or_local_objects_stays_home(self):
        a, b = self.a, self.b
        # A sighting about B's own object is not routed anywhere.
        own = tlp_indicator("green", 3)
        b.publish_ok([own])
        self.feedback_send(own["id"], "seen")
        sightings = [o for o in b.all_objects(b.default_collection)
                     if o.get("type") == "sighting" and o.get("sighting_of_ref") == own["id"]]
        self.assertEqual(len(sightings), 1, sightings)
        # Outbox rows are written with the object: none was queued, so nothing will ever go.
        self.assertEqual(b.receipts(object_id=sightings[0]["id"]), [])
        self.assertEqual(a.feedback(own["id"]), [])

    def test_cli_rejects_bad_outcome(self):
        obj = self.received_at_b(n=4)
        p = self.b.cli("feedback", "send", "--url", self.b.api_url, "--user", "pub",
                       "--password-stdin", "--collection", self.b.default_collection,
                       "--object", obj["id"], "--outcome", "arrested-everyone",
                       input=self.b.passwords["pub"] + "\n", check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("outcome", p.stderr)


if __name__ == "__main__":
    unittest.main()
