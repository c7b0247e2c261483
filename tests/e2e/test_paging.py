"""Paging through 10,000 objects with limit/next and with added_after: nothing is skipped or
repeated, also while new objects arrive, and cursors survive a restart (issue 2: "next cursors
stay valid however slowly a client pages").
"""

import threading
import unittest

from hub import API_ROOT, HubTestCase, envelope, indicator, malware, parse_time, read_all, urlquote

TOTAL = 10000
BATCH = 1000


class PagingTest(HubTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ids = []
        auth = cls.hub.basic("pub")
        for b in range(TOTAL // BATCH):
            objs = [indicator(b * BATCH + i) for i in range(BATCH)]
            r = cls.hub.request("POST", "%scollections/%s/objects/" % (API_ROOT, cls.col),
                                body=envelope(objs), auth=auth)
            if r.status != 202 or r.json().get("success_count") != BATCH:
                cls.tearDownClass()
                raise AssertionError("seeding failed: " + r.describe())
            cls.ids += [o["id"] for o in objs]

    def assert_exactly_once(self, seen, expected):
        dupes = len(seen) - len(set(seen))
        self.assertEqual(dupes, 0, "%d objects repeated" % dupes)
        missing = set(expected) - set(seen)
        self.assertFalse(missing, "%d objects skipped, e.g. %s" % (len(missing),
                                                                   sorted(missing)[:3]))
        extra = set(seen) - set(expected)
        self.assertFalse(extra, "%d unexpected objects" % len(extra))

    def test_01_limit_next_objects(self):
        pages = read_all(self, self.objects_path(), user="reader", limit=100,
                         extra="match[type]=indicator")
        seen = [o["id"] for _, body in pages for o in body.get("objects", [])]
        # 100 full pages; a server may add one empty page when it cannot tell the end early.
        self.assertIn(len(pages), (TOTAL // 100, TOTAL // 100 + 1))
        self.assert_exactly_once(seen, self.ids)
        for r, body in pages[:-1]:
            self.assertEqual(len(body["objects"]), 100, r.describe()[:300])
        # The date-added headers of consecutive pages never overlap.
        prev_last = None
        for r, body in pages:
            if not body.get("objects"):
                continue
            first = parse_time(r.header("X-TAXII-Date-Added-First"))
            last = parse_time(r.header("X-TAXII-Date-Added-Last"))
            self.assertLessEqual(first, last)
            if prev_last is not None:
                self.assertLess(prev_last, first)
            prev_last = last

    def test_02_manifest_date_added_strictly_increasing(self):
        pages = read_all(self, "%scollections/%s/manifest/" % (API_ROOT, self.col), user="reader",
                         limit=1000)
        entries = [e for _, body in pages for e in body.get("objects", [])]
        self.assert_exactly_once([e["id"] for e in entries], self.ids)
        added = [parse_time(e["date_added"]) for e in entries]
        for a, b in zip(added, added[1:]):
            self.assertLess(a, b, "date_added must be unique and increasing")

    def test_03_added_after_with_concurrent_writer(self):
        # A client pages with added_after (from X-TAXII-Date-Added-Last) while a writer adds
        # 500 more objects: at the end it has seen every object exactly once.
        extra_ids = []
        errors = []

        def writer():
            try:
                for b in range(10):
                    objs = [indicator(100000 + b * 50 + i) for i in range(50)]
                    r = self.hub.request("POST", self.objects_path(), body=envelope(objs),
                                         auth=self.hub.basic("pub2"))
                    if r.status != 202:
                        errors.append(r.describe())
                        return
                    extra_ids.extend(o["id"] for o in objs)
            except Exception as e:  # reported by the main thread
                errors.append(repr(e))

        t = threading.Thread(target=writer)
        t.start()
        seen = []
        added_after = None
        finished = False
        for _ in range(1000):
            q = "?match[type]=indicator&limit=250"
            if added_after:
                q += "&added_after=" + urlquote(added_after)
            r = self.get(self.objects_path(query=q), user="reader")
            self.assertEqual(r.status, 200, r.describe())
            objs = r.json().get("objects", [])
            seen += [o["id"] for o in objs]
            if objs:
                added_after = r.header("X-TAXII-Date-Added-Last")
                self.assertIsNotNone(added_after, r.describe())
            elif finished:
                break
            if not objs and not t.is_alive():
                finished = True  # one more round after the writer ended
        t.join()
        self.assertFalse(errors, errors)
        # Catch up on whatever arrived after the last empty page.
        while True:
            r = self.get(self.objects_path(query="?match[type]=indicator&limit=250&added_after="
                                           + urlquote(added_after)), user="reader")
            objs = r.json().get("objects", [])
            if not objs:
                break
            seen += [o["id"] for o in objs]
            added_after = r.header("X-TAXII-Date-Added-Last")
        self.assert_exactly_once(seen, self.ids + extra_ids)
        type(self).ids = self.ids + extra_ids

    def test_04_next_cursor_unaffected_by_new_objects(self):
        path = self.objects_path()
        r = self.get(path + "?match[type]=indicator&limit=2000", user="reader")
        body = r.json()
        self.assertTrue(body.get("more"), r.describe()[:300])
        first_page = [o["id"] for o in body["objects"]]
        nxt = body["next"]
        # New objects of another type, and of the same type, arrive between pages.
        late = [indicator(200000 + i) for i in range(20)] + [malware()]
        self.publish(late)
        seen = list(first_page)
        while True:
            r = self.get(path + "?match[type]=indicator&limit=2000&next=" + urlquote(nxt),
                         user="reader")
            self.assertEqual(r.status, 200, r.describe())
            body = r.json()
            seen += [o["id"] for o in body.get("objects", [])]
            if not body.get("more"):
                break
            nxt = body["next"]
        # Either the late indicators are included (cursor = position) or not (snapshot); never
        # anything repeated or skipped among the earlier ones.
        late_ids = {o["id"] for o in late if o["type"] == "indicator"}
        self.assertEqual(len(seen), len(set(seen)))
        self.assertEqual(set(seen) - late_ids, set(self.ids))
        self.assertNotIn(late[-1]["id"], seen)
        type(self).ids = self.ids + sorted(late_ids)

    def test_05_cursor_reused_and_after_restart(self):
        path = self.objects_path() + "?match[type]=indicator&limit=500"
        r = self.get(path, user="reader")
        nxt = r.json()["next"]
        a = self.get(path + "&next=" + urlquote(nxt), user="reader")
        b = self.get(path + "&next=" + urlquote(nxt), user="reader")
        self.assertEqual(a.status, 200, a.describe())
        self.assertEqual(a.json(), b.json(), "the same cursor must give the same page")
        self.assertEqual(self.hub.stop(), 0, self.hub.log_tail())
        self.hub.start()
        c = self.get(path + "&next=" + urlquote(nxt), user="reader")
        self.assertEqual(c.status, 200, "cursor invalid after restart: " + c.describe())
        self.assertEqual(a.json().get("objects"), c.json().get("objects"))

    def test_06_limit_next_with_other_page_sizes(self):
        r = self.get(self.objects_path(query="?match[type]=indicator&limit=1"), user="reader")
        body = r.json()
        self.assertEqual(len(body["objects"]), 1, r.describe()[:300])
        self.assertTrue(body["more"])
        for limit in (999, 10000):
            pages = read_all(self, self.objects_path(), user="reader", limit=limit,
                             extra="match[type]=indicator")
            seen = [o["id"] for _, body in pages for o in body.get("objects", [])]
            self.assert_exactly_once(seen, self.ids)


if __name__ == "__main__":
    unittest.main()
