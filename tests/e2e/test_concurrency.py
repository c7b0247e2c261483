"""Many clients at once: concurrent publishers (Basic and API keys) and readers on keep-alive
connections. Every request must succeed (no 5xx, no dropped connection), every acknowledged object
must be readable exactly once, and the hub must still stop cleanly.
"""

import threading
import unittest

from hub import API_ROOT, HubTestCase, envelope, indicator, read_all

PUBLISHERS = 6
READERS = 4
POSTS_PER_PUBLISHER = 15
BATCH = 40


class ConcurrencyTest(HubTestCase):
    @classmethod
    def prepare_hub(cls, hub):
        cls.keys = [hub.create_apikey("pub") for _ in range(PUBLISHERS // 2)]

    def test_concurrent_publishers_and_readers(self):
        errors = []
        acked = [[] for _ in range(PUBLISHERS)]
        done = threading.Event()

        def publisher(n):
            if n % 2:
                auth = "Bearer " + self.keys[n // 2]
            else:
                auth = self.hub.basic("pub" if n % 4 == 0 else "pub2")
            conn = self.hub.connection()
            try:
                for i in range(POSTS_PER_PUBLISHER):
                    objs = [indicator(n * 100000 + i * BATCH + k) for k in range(BATCH)]
                    r = self.hub.request("POST", self.objects_path(), body=envelope(objs),
                                         auth=auth, conn=conn)
                    if r.status != 202:
                        errors.append("publisher %d: %s" % (n, r.describe()))
                        return
                    status = r.json()
                    if status.get("status") != "complete" or status.get("success_count") != BATCH:
                        errors.append("publisher %d: %r" % (n, status))
                        return
                    acked[n].extend(o["id"] for o in objs)
            except Exception as e:  # reported below
                errors.append("publisher %d: %r" % (n, e))
            finally:
                conn.close()

        def reader(n):
            conn = self.hub.connection()
            try:
                while not done.is_set():
                    for path in (self.objects_path(query="?limit=200"),
                                 "%scollections/%s/manifest/?limit=500" % (API_ROOT, self.col),
                                 API_ROOT + "collections/", "/taxii2/"):
                        r = self.hub.request("GET", path, auth=self.hub.basic("reader"),
                                             conn=conn)
                        if r.status != 200:
                            errors.append("reader %d: %s" % (n, r.describe()))
                            return
            except Exception as e:  # reported below
                errors.append("reader %d: %r" % (n, e))
            finally:
                conn.close()

        pubs = [threading.Thread(target=publisher, args=(n,)) for n in range(PUBLISHERS)]
        readers = [threading.Thread(target=reader, args=(n,)) for n in range(READERS)]
        for t in pubs + readers:
            t.start()
        for t in pubs:
            t.join()
        done.set()
        for t in readers:
            t.join()
        self.assertFalse(errors, errors[:5])
        expected = [i for ids in acked for i in ids]
        self.assertEqual(len(expected), PUBLISHERS * POSTS_PER_PUBLISHER * BATCH)
        pages = read_all(self, self.objects_path(), user="reader", limit=1000)
        seen = [o["id"] for _, body in pages for o in body.get("objects", [])]
        self.assertEqual(len(seen), len(set(seen)), "objects repeated")
        self.assertEqual(set(seen), set(expected))


if __name__ == "__main__":
    unittest.main()
