"""Three hubs all partnered with each other (issue 4, "no loops"): every hub pushes its default
collection and its inbox to both others (channels up to RED, so only the policy stops anything).
Each object reaches each other hub exactly once (one version, in its inbox) and is never pushed
back to its origin, whichever way it travels (A -> B -> C and A -> C both happen for CLEAR and
GREEN; the second arrival is a no-op).
"""

import unittest

from federation import FederationTestCase, channel, partner, tlp_indicator, wait_until


class TriangleTest(FederationTestCase):
    HUBS = [("a", "Agency A"), ("b", "Agency B"), ("c", "Agency C")]

    @classmethod
    def configure(cls):
        hubs = [cls.a, cls.b, cls.c]
        for i, x in enumerate(hubs):
            for y in hubs[i + 1:]:
                partner(x, y)
        for x in hubs:
            for y in hubs:
                if x is not y:
                    channel(x, y, x.default_collection, max_tlp="red")
                    channel(x, y, x.inbox, max_tlp="red")

    def others(self, origin):
        return [h for h in (self.a, self.b, self.c) if h is not origin]

    def settle(self):
        for h in (self.a, self.b, self.c):
            wait_until(lambda h=h: not h.receipts(state="queued"),
                       what="every outbox row of %s settled" % h.name)

    def test_each_object_reaches_each_hub_once_never_back(self):
        published = []  # (origin hub, object, hubs that must hold it)
        for origin in (self.a, self.b, self.c):
            x, y = self.others(origin)
            for n, (level, recipients, holders) in enumerate([
                    ("clear", None, [x, y]),
                    ("green", None, [x, y]),
                    ("amber", None, [x, y]),
                    ("amber", [x.identity_id], [x]),
                    ("amber+strict", [y.identity_id], [y]),
                    ("red", [x.identity_id, y.identity_id], [x, y])]):
                obj = tlp_indicator(level, n, recipients=recipients,
                                    name="triangle %s %s %d" % (origin.name, level, n))
                origin.publish_ok([obj])
                published.append((origin, obj, holders))

        for origin, obj, holders in published:
            for h in holders:
                h.wait_object(h.inbox, obj["id"])
        self.settle()

        for origin, obj, holders in published:
            what = "%s from %s" % (obj["name"], origin.name)
            # Exactly one version at each holder; nothing at the others.
            for h in self.others(origin):
                versions = h.versions(h.inbox, obj["id"])
                self.assertEqual(len(versions), 1 if h in holders else 0,
                                 "%s: versions at %s: %r" % (what, h.name, versions))
            # Never back at its origin: not in its inbox, and no hub queued it for the origin.
            self.assertEqual(origin.versions(origin.inbox, obj["id"]), [], what)
            self.assertEqual(len(origin.versions(origin.default_collection, obj["id"])), 1, what)
            for h in self.others(origin):
                rows = h.receipts(object_id=obj["id"])
                self.assertNotIn(origin.identity_id, {r["partner"] for r in rows},
                                 "%s: %s queued it back to its origin: %r" % (what, h.name, rows))
                for r in rows:
                    self.assertEqual(r["state"], "delivered", "%s at %s: %r" % (what, h.name, r))

    def test_versions_travel_once_each(self):
        a, b, c = self.a, self.b, self.c
        v1 = tlp_indicator("green", 50, name="versioned v1")
        v2 = dict(v1, modified="2024-03-05T00:00:00.000Z", name="versioned v2")
        a.publish_ok([v1])
        a.publish_ok([v2])
        for h in (b, c):
            wait_until(lambda h=h: len(h.versions(h.inbox, v1["id"])) == 2,
                       what="two versions at %s" % h.name)
        self.settle()
        for h in (b, c):
            self.assertEqual(len(h.versions(h.inbox, v1["id"])), 2)
            everything = [o for o in h.all_objects(h.inbox, query="match[version]=all")
                          if o["id"] == v1["id"]]
            self.assertEqual(len(everything), 2, everything)
        self.assertEqual(a.versions(a.inbox, v1["id"]), [])


if __name__ == "__main__":
    unittest.main()
