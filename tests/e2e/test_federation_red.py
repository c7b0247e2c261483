"""TLP:RED at rest and in transit (issue 4): "TLP:RED content is sealed to each recipient's public
key before it leaves the originating hub, and is stored encrypted on every hub, so a database dump
or a relay reveals nothing."

A publishes RED objects for B carrying a unique marker string; A and B are partners of C as well.
The marker must not appear in any hub's database at rest (SQLite: hub.db, -wal, -shm; PostgreSQL:
pg_dump of the hub's schema and every file of the cluster, WAL included, when they are readable
here), neither while the hubs run nor after they stop, nor in what A serves its partners; yet A's
and B's own readers read the plaintext through TAXII (each such read audited "read-red"), and C
has nothing.
"""

import secrets
import unittest

from federation import (FederationTestCase, channel, partner, partner_auth, tlp_indicator,
                        without_signature)
from hub import find_in_parts, pg_cluster_dump


class RedTest(FederationTestCase):
    HUBS = [("a", "Agency A"), ("b", "Agency B"), ("c", "Agency C")]

    @classmethod
    def configure(cls):
        a, b, c = cls.a, cls.b, cls.c
        partner(a, b)
        partner(a, c)
        partner(b, c)
        channel(a, b, a.default_collection, max_tlp="red", allow_pull=True)
        channel(a, c, a.default_collection, max_tlp="red", allow_pull=True)
        channel(b, c, b.inbox, max_tlp="red", allow_pull=True)
        cls.marker = "REDMARKER" + secrets.token_hex(12)
        cls.objects = [
            tlp_indicator("red", 1, recipients=[b.identity_id], name=cls.marker + " name",
                          description="the plan: " + cls.marker),
            tlp_indicator("red", 2, recipients=[b.identity_id], name="second " + cls.marker,
                          pattern="[user-account:account_login = '%s']" % cls.marker),
        ]
        # The control: a GREEN object (stored in clear) whose marker the same search must find,
        # so that "not found" above means absent, not unsearched.
        cls.control = "GREENCONTROL" + secrets.token_hex(12)
        a.publish_ok([tlp_indicator("green", 3, name=cls.control)])
        a.publish_ok(cls.objects)
        for obj in cls.objects:
            b.wait_object(b.inbox, obj["id"])
            a.wait_receipts(obj["id"], {b.identity_id: "delivered"})

    def assertNoMarker(self, when):
        """Nothing an attacker with a hub's database can read holds the marker: on SQLite hub.db
        and its -wal/-shm/-journal files; on PostgreSQL a pg_dump of each hub's schema and, when
        the cluster's files are readable here, every file of the cluster (heap, indexes, WAL),
        searched once for the three hubs. The RED objects' ids (stored in clear as keys at A and
        B) must be found in the same places, and so must a GREEN control marker published at A
        in clear: proof that the search saw the hubs' data and finds plaintext."""
        ids = [obj["id"] for obj in self.objects]
        for hub in (self.a, self.b, self.c):
            found, parts = hub.raw_find(self.marker, self.control, *ids, cluster_files=False)
            self.assertTrue(parts, "nothing to search for %s" % hub.name)
            self.assertEqual(found[self.marker], [], "%s (%s store): RED plaintext in %s (%s)"
                             % (hub.name, hub.backend, found[self.marker], when))
            if hub is self.a:
                self.assertTrue(found[self.control], "A: the GREEN control marker not found in "
                                "%r: the search cannot see plaintext" % parts)
            if hub is not self.c:
                for oid in ids:
                    self.assertTrue(found[oid], "%s: object %s not found in %r: the search "
                                    "missed the hub's data" % (hub.name, oid, parts))
        if self.a.backend == "postgres" and self.a.raw_dump_has_cluster_files():
            found, parts = find_in_parts(pg_cluster_dump(), [self.marker, self.control] + ids)
            self.assertEqual(found[self.marker], [], "RED plaintext in the PostgreSQL cluster's "
                             "files %s (%s)" % (found[self.marker], when))
            self.assertTrue(found[self.control], "the GREEN control marker is in none of the "
                            "cluster's %d files" % len(parts))
            for oid in ids:
                self.assertTrue(found[oid], "object %s not in any of the cluster's %d files"
                                % (oid, len(parts)))

    def test_recipients_read_plaintext_through_taxii(self):
        a, b = self.a, self.b
        for obj in self.objects:
            got = b.get_object(b.inbox, obj["id"], user="reader")
            self.assertEqual(without_signature(got[0]), obj)
            got = a.get_object(a.default_collection, obj["id"], user="reader")
            self.assertEqual(without_signature(got[0]), obj)
        listed = b.all_objects(b.inbox, auth=b.basic("reader"))
        self.assertIn(self.marker, str(listed))
        audit = b.audit_list(kind="read-red")
        self.assertIn(self.objects[0]["id"], audit)
        self.assertIn("reader", audit)

    def test_wire_form_is_sealed(self):
        a, b, c = self.a, self.b, self.c
        for obj in self.objects:
            wire = a.get_object(a.default_collection, obj["id"], auth=partner_auth(a, b))
            self.assertEqual(len(wire), 1)
            self.assertEqual(wire[0]["type"], "x-liaison-sealed", wire)
            self.assertEqual(wire[0].get("sealed_ref"), obj["id"])
            boxes = wire[0].get("sealed", {})
            self.assertIn(b.identity_id, boxes)
            self.assertNotIn(c.identity_id, boxes)
            self.assertNotIn(self.marker, str(wire))
            # C is a partner of A but not a recipient: it sees nothing.
            self.assertEqual(a.get_object(a.default_collection, obj["id"],
                                          auth=partner_auth(a, c)), [])
            # B never relays RED, not even sealed.
            self.assertEqual(b.get_object(b.inbox, obj["id"], auth=partner_auth(b, c)), [])

    def test_other_partner_has_nothing(self):
        a, c = self.a, self.c
        for obj in self.objects:
            self.assertEqual(c.get_object(c.inbox, obj["id"]), [])
            self.assertNotIn(c.identity_id, {r["partner"] for r in a.receipts(object_id=obj["id"])})
            self.assertEqual(self.b.receipts(object_id=obj["id"]), [])

    def test_zz_marker_absent_from_every_database(self):
        # Named zz_ so it runs last: it stops the hubs to check the checkpointed files too (on
        # PostgreSQL: what the hubs left in the cluster once their connections closed).
        self.assertNoMarker("running")
        for hub in (self.a, self.b, self.c):
            rc = hub.stop()
            self.assertEqual(rc, 0, hub.log_tail())
        self.assertNoMarker("stopped")


if __name__ == "__main__":
    unittest.main()
