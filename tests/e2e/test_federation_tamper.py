"""Provenance and audit (issue 4): objects POSTed to B's inbox with A's own partner credentials are
refused when they are tampered with, carry a forged signature or none, or claim A with another key;
each refusal is a clear status failure plus an audit "reject" entry; replaying an old signed object
changes nothing. An object (or its kept signature) altered in A's database is refused by B. `liaison
audit verify` says OK, then detects an altered, a removed and (with --expect-head) a truncated
entry in a copy of B's store edited directly (SQLite: hub.db with sqlite3; PostgreSQL: a pg_dump
of B's schema restored into a fresh database and edited with psql: Hub.snapshot, Hub.raw_sql).

Signed objects come from the hub itself (B pulls A's wire form, signed by A); forgeries are made
with keys of the test's own (stix_sig.py, an independent Ed25519 implementation).
"""

import json
import os
import unittest

import stix_sig
from federation import (FederationTestCase, channel, partner, partner_auth, tlp_indicator,
                        wait_until, without_signature)
from hub import minified


class TamperTest(FederationTestCase):
    HUBS = [("a", "Agency A"), ("b", "Agency B")]

    @classmethod
    def configure(cls):
        partner(cls.a, cls.b)
        channel(cls.a, cls.b, cls.a.default_collection, max_tlp="red", allow_pull=True)

    def delivered_pair(self, level="green", n=0):
        """Publishes an object at A, waits until B has it; returns (object, A's signed wire form)."""
        a, b = self.a, self.b
        recipients = [b.identity_id] if level in ("amber+strict", "red") else None
        obj = tlp_indicator(level, n, recipients=recipients)
        a.publish_ok([obj])
        b.wait_object(b.inbox, obj["id"])
        wire = a.get_object(a.default_collection, obj["id"], auth=partner_auth(a, b))
        self.assertEqual(len(wire), 1, wire)
        self.assertIsNone(stix_sig.check_signature(wire[0], a.identity["sign_key"]))
        return obj, wire[0]

    def post_as_a(self, objects):
        """POSTs to B's inbox with the token A presents to B; returns the status resource."""
        b = self.b
        r = b.request("POST", b.objects_path(b.inbox), body={"objects": objects},
                      auth=partner_auth(b, self.a))
        self.assertEqual(r.status, 202, r.describe())
        return r.json()

    def assertRefused(self, obj, what):
        b = self.b
        before = b.versions(b.inbox, obj["id"])
        status = self.post_as_a([obj])
        self.assertEqual(status.get("status"), "complete", status)
        self.assertEqual(status.get("success_count"), 0, "%s accepted: %r" % (what, status))
        self.assertEqual(status.get("failure_count"), 1, status)
        failure = status["failures"][0]
        self.assertEqual(failure.get("id"), obj["id"], status)
        message = failure.get("message", "")
        self.assertTrue(message and ("signature" in message.lower() or "key" in message.lower()),
                        "%s: the failure should say why: %r" % (what, status))
        self.assertEqual(b.versions(b.inbox, obj["id"]), before, "%s changed B" % what)
        audit = b.audit_list(kind="reject")
        self.assertIn(obj["id"], audit, "%s: no audit reject entry:\n%s" % (what, audit))
        return message

    def test_tampered_object_refused(self):
        obj, wire = self.delivered_pair(n=1)
        tampered = json.loads(json.dumps(wire))
        tampered["name"] = "tampered in transit"
        tampered["modified"] = "2024-04-01T00:00:00.000Z"  # would be a new version
        self.assertRefused(tampered, "tampered object")
        # Still A's original at B.
        got = self.b.get_object(self.b.inbox, obj["id"])
        self.assertEqual(without_signature(got[0]), obj)

    def test_forged_signatures_refused(self):
        a = self.a
        attacker = os.urandom(32)
        # 1. Claims A, carries A's public key, but was signed with another key.
        forged = stix_sig.sign_object(tlp_indicator("green", 2), a.identity_id, attacker)
        forged["x_liaison_signature"]["key"] = a.identity["sign_key"]
        self.assertIsNotNone(stix_sig.check_signature(forged))
        self.assertRefused(forged, "signature by the wrong key under A's key")
        # 2. Claims A, correctly signed, but with a key that is not A's trusted key.
        wrong_key = stix_sig.sign_object(tlp_indicator("green", 3), a.identity_id, attacker)
        self.assertIsNone(stix_sig.check_signature(wrong_key))
        self.assertRefused(wrong_key, "A's identity with an untrusted key")
        # 3. A signature that is not base64 / has the wrong length.
        _, wire = self.delivered_pair(n=4)
        broken = json.loads(json.dumps(wire))
        broken["id"] = tlp_indicator("green", 5)["id"]
        broken["x_liaison_signature"]["sig"] = "AAAA"
        self.assertRefused(broken, "truncated signature")
        # 4. No signature at all.
        self.assertRefused(tlp_indicator("green", 6), "unsigned object")

    def test_replay_is_a_no_op(self):
        a, b = self.a, self.b
        obj, wire_v1 = self.delivered_pair(n=7)
        status = self.post_as_a([wire_v1])
        self.assertEqual(status.get("failure_count"), 0, status)
        self.assertEqual(len(b.versions(b.inbox, obj["id"])), 1)
        # A newer version arrives; replaying the old one afterwards changes nothing.
        v2 = dict(obj, modified="2024-05-01T00:00:00.000Z", name="second version")
        a.publish_ok([v2])
        wait_until(lambda: len(b.versions(b.inbox, obj["id"])) == 2, what="v2 at B")
        self.post_as_a([wire_v1])
        self.assertEqual(len(b.versions(b.inbox, obj["id"])), 2)
        latest = b.get_object(b.inbox, obj["id"])
        self.assertEqual(without_signature(latest[0]), v2)

    def test_object_altered_in_origin_database_is_refused(self):
        """Someone with write access to A's database alters a stored object, then its kept
        signature (a label column). A serves what its store holds, with the signature it computed
        at publish; that signature no longer matches, so B refuses the object exactly like one
        tampered with in transit (status failure, audit "reject"), and keeps the original."""
        a, b = self.a, self.b
        obj, wire = self.delivered_pair(n=9)
        other, other_wire = self.delivered_pair(n=10)
        rows = a.raw_sql("SELECT json, signature FROM objects WHERE id = ?", obj["id"])
        self.assertEqual(len(rows), 1, rows)
        stored_json, stored_signature = rows[0]
        self.assertEqual(json.loads(stored_json), obj)
        self.assertTrue(stored_signature, "A keeps no signature label for %s" % obj["id"])

        # 1. The object's bytes: a new name and a later modified (a new version, were it signed).
        altered = dict(obj, name="altered in A's database", modified="2024-06-01T00:00:00.000Z")
        n = a.raw_sql("UPDATE objects SET json = ? WHERE id = ? RETURNING id",
                      minified(altered), obj["id"])
        self.assertEqual(len(n), 1, n)
        served = a.get_object(a.default_collection, obj["id"], auth=partner_auth(a, b))
        self.assertEqual(without_signature(served[0]), altered, "A serves what its store holds")
        self.assertIsNotNone(stix_sig.check_signature(served[0], a.identity["sign_key"]),
                             "the stale signature must not verify over the altered object")
        self.assertRefused(served[0], "object altered in A's database")
        self.assertEqual(without_signature(b.get_object(b.inbox, obj["id"])[0]), obj)

        # 2. The signature label: the object's bytes restored, another object's signature kept.
        a.raw_sql("UPDATE objects SET json = ?, signature = (SELECT signature FROM objects "
                  "WHERE id = ?) WHERE id = ? RETURNING id", stored_json, other["id"], obj["id"])
        served = a.get_object(a.default_collection, obj["id"], auth=partner_auth(a, b))
        self.assertEqual(without_signature(served[0]), obj)
        self.assertEqual(served[0].get("x_liaison_signature"),
                         other_wire.get("x_liaison_signature"), "A serves the label it holds")
        self.assertIsNotNone(stix_sig.check_signature(served[0], a.identity["sign_key"]))
        refused = dict(served[0], modified="2024-06-02T00:00:00.000Z")  # not a held version
        self.assertRefused(refused, "object with a swapped signature label")

        # Restored, A's wire form verifies again.
        a.raw_sql("UPDATE objects SET signature = ? WHERE id = ? RETURNING id", stored_signature,
                  obj["id"])
        served = a.get_object(a.default_collection, obj["id"], auth=partner_auth(a, b))
        self.assertEqual(served[0], wire)
        self.assertIsNone(stix_sig.check_signature(served[0], a.identity["sign_key"]))

    def test_audit_verify_detects_altered_and_removed_entries(self):
        b = self.b
        self.delivered_pair(n=8)
        out = b.cli_data("audit", "verify")
        self.assertIn("audit chain OK", out.stdout)
        # Edit a consistent copy of B's hub (SQLite: online backup of hub.db; PostgreSQL: pg_dump
        # restored into a fresh database); the hub keeps running on the original.
        work = os.path.join(os.path.dirname(b.data_dir), "tampered")
        copy = b.snapshot(work)
        self.addCleanup(copy.cleanup)

        def verify(*extra):
            return copy.cli("audit", "verify", "--data", copy.data_dir, *extra, check=False)

        p = verify()
        self.assertEqual(p.returncode, 0, (p.stdout, p.stderr))
        seqs = [int(r[0]) for r in copy.raw_sql("SELECT seq FROM audit ORDER BY seq")]
        self.assertGreaterEqual(len(seqs), 3, "expected a few audit entries")
        middle = seqs[len(seqs) // 2]
        original = copy.raw_sql("SELECT detail FROM audit WHERE seq = ?", middle)[0][0]
        self.assertEqual(len(copy.raw_sql("UPDATE audit SET detail = ? WHERE seq = ? RETURNING seq",
                                          (original or "") + " ", middle)), 1)
        p = verify()
        self.assertEqual(p.returncode, 1, (p.stdout, p.stderr))
        self.assertIn(str(middle), p.stdout + p.stderr)

        # Put it back: OK again. Then remove the entry instead.
        copy.raw_sql("UPDATE audit SET detail = ? WHERE seq = ? RETURNING seq", original, middle)
        p = verify()
        self.assertEqual(p.returncode, 0, (p.stdout, p.stderr))
        self.assertEqual(len(copy.raw_sql("DELETE FROM audit WHERE seq = ? RETURNING seq",
                                          middle)), 1)
        p = verify()
        self.assertEqual(p.returncode, 1, (p.stdout, p.stderr))
        self.assertIn("liaison:", p.stderr)

        # Removing the newest entries leaves a valid shorter chain: --expect-head catches it.
        copy.cleanup()
        copy = b.snapshot(work)
        self.addCleanup(copy.cleanup)
        out = verify()
        self.assertEqual(out.returncode, 0, (out.stdout, out.stderr))
        head = out.stdout.strip().rsplit("head ", 1)[-1].split()[0]
        self.assertRegex(head, r"^\d+:[0-9a-f]+$", out.stdout)
        p = verify("--expect-head", head)
        self.assertEqual(p.returncode, 0, (p.stdout, p.stderr))
        self.assertEqual(len(copy.raw_sql("DELETE FROM audit WHERE seq = (SELECT MAX(seq) FROM "
                                          "audit) RETURNING seq")), 1)
        p = verify()
        self.assertEqual(p.returncode, 0, "a truncated chain is still a chain: %r" % (p.stdout,))
        p = verify("--expect-head", head)
        self.assertEqual(p.returncode, 1, (p.stdout, p.stderr))


if __name__ == "__main__":
    unittest.main()
