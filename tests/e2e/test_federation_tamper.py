"""Provenance and audit (issue 4): objects POSTed to B's inbox with A's own partner credentials are
refused when they are tampered with, carry a forged signature or none, or claim A with another key;
each refusal is a clear status failure plus an audit "reject" entry; replaying an old signed object
changes nothing. `liaison audit verify` says OK, then detects an altered entry and a removed entry
after hub.db is edited with sqlite3.

Signed objects come from the hub itself (B pulls A's wire form, signed by A); forgeries are made
with keys of the test's own (stix_sig.py, an independent Ed25519 implementation).
"""

import json
import os
import shutil
import sqlite3
import unittest

import stix_sig
from federation import (FederationTestCase, channel, partner, partner_auth, tlp_indicator,
                        wait_until, without_signature)


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

    def test_audit_verify_detects_altered_and_removed_entries(self):
        b = self.b
        self.delivered_pair(n=8)
        out = b.cli_data("audit", "verify")
        self.assertIn("audit chain OK", out.stdout)
        # Edit a copy of B's database (the hub keeps running on the original).
        work = os.path.join(os.path.dirname(b.data_dir), "tampered")
        self.copy_data_dir(b.data_dir, work)
        db = os.path.join(work, "hub.db")
        table, cols = self.audit_table(db)
        con = sqlite3.connect(db)
        try:
            seqs = [r[0] for r in con.execute("SELECT seq FROM %s ORDER BY seq" % table)]
            self.assertGreaterEqual(len(seqs), 3, "expected a few audit entries")
            middle = seqs[len(seqs) // 2]
            column = "detail" if "detail" in cols else "subject"
            original = con.execute("SELECT %s FROM %s WHERE seq=?" % (column, table),
                                   (middle,)).fetchone()[0]
            con.execute("UPDATE %s SET %s=? WHERE seq=?" % (table, column),
                        ((original or "") + " ", middle))
            con.commit()
        finally:
            con.close()
        p = b.cli("audit", "verify", "--data", work, check=False)
        self.assertEqual(p.returncode, 1, (p.stdout, p.stderr))
        self.assertIn(str(middle), p.stdout + p.stderr)

        # Put it back: OK again. Then remove the entry instead.
        con = sqlite3.connect(db)
        try:
            con.execute("UPDATE %s SET %s=? WHERE seq=?" % (table, column), (original, middle))
            con.commit()
        finally:
            con.close()
        p = b.cli("audit", "verify", "--data", work, check=False)
        self.assertEqual(p.returncode, 0, (p.stdout, p.stderr))
        con = sqlite3.connect(db)
        try:
            con.execute("DELETE FROM %s WHERE seq=?" % table, (middle,))
            con.commit()
        finally:
            con.close()
        p = b.cli("audit", "verify", "--data", work, check=False)
        self.assertEqual(p.returncode, 1, (p.stdout, p.stderr))
        self.assertIn("liaison:", p.stderr)

        # Removing the newest entries leaves a valid shorter chain: --expect-head catches it.
        self.copy_data_dir(b.data_dir, work)
        out = b.cli("audit", "verify", "--data", work).stdout
        head = out.strip().rsplit("head ", 1)[-1].split()[0]
        self.assertRegex(head, r"^\d+:[0-9a-f]+$", out)
        p = b.cli("audit", "verify", "--data", work, "--expect-head", head, check=False)
        self.assertEqual(p.returncode, 0, (p.stdout, p.stderr))
        con = sqlite3.connect(db)
        try:
            con.execute("DELETE FROM %s WHERE seq=(SELECT MAX(seq) FROM %s)" % (table, table))
            con.commit()
        finally:
            con.close()
        p = b.cli("audit", "verify", "--data", work, check=False)
        self.assertEqual(p.returncode, 0, "a truncated chain is still a chain: %r" % (p.stdout,))
        p = b.cli("audit", "verify", "--data", work, "--expect-head", head, check=False)
        self.assertEqual(p.returncode, 1, (p.stdout, p.stderr))

    @staticmethod
    def copy_data_dir(src, dst):
        """A consistent copy of a live hub's data directory (SQLite online backup for hub.db)."""
        shutil.rmtree(dst, ignore_errors=True)
        shutil.copytree(src, dst, ignore=shutil.ignore_patterns("hub.db*"))
        source = sqlite3.connect("file:%s?mode=ro" % os.path.join(src, "hub.db"), uri=True)
        target = sqlite3.connect(os.path.join(dst, "hub.db"))
        try:
            source.backup(target)
        finally:
            source.close()
            target.close()

    def audit_table(self, db):
        con = sqlite3.connect(db)
        try:
            for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type='table'"):
                cols = [r[1] for r in con.execute("PRAGMA table_info(%s)" % name)]
                if "audit" in name and "seq" in cols and "hash" in cols:
                    return name, cols
        finally:
            con.close()
        self.fail("no audit table with seq and hash columns in " + db)


if __name__ == "__main__":
    unittest.main()
