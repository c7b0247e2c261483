"""Crash test (issue 2): kill -9 the hub during a stream of POSTs, restart it on the same data
directory, and check that every object whose POST returned a "complete" status listing it among
the successes is there, that each request's objects were committed all together or not at all,
and that the database opens cleanly. Repeated several times on the same data directory.
"""

import glob
import http.client
import os
import random
import sqlite3
import sys
import threading
import time
import unittest

from hub import API_ROOT, Hub, envelope, indicator, read_all

ROUNDS = int(os.environ.get("LIAISON_CRASH_ROUNDS", "4"))
WRITERS = 2
BATCH = 100


class Writer(threading.Thread):
    """Posts envelopes until told to stop or the hub goes away; records what was acknowledged."""

    def __init__(self, hub, col, auth, seed, stop):
        super().__init__(daemon=True)
        self.hub, self.col, self.auth, self.stop = hub, col, auth, stop
        self.rng = random.Random(seed)
        self.acked = {}        # object id -> object
        self.status_ids = []   # status resources of acknowledged requests
        self.unacked = []      # [ids] of requests sent without a complete answer
        self.errors = []
        self.n = seed * 10000000

    def run(self):
        path = "%scollections/%s/objects/" % (API_ROOT, self.col)
        conn = None
        while not self.stop.is_set():
            objs = []
            for _ in range(self.rng.randint(1, BATCH)):
                objs.append(indicator(self.n))
                self.n += 1
            try:
                if conn is None:
                    conn = self.hub.connection(timeout=30)
                r = self.hub.request("POST", path, body=envelope(objs), auth=self.auth,
                                     conn=conn)
            except (OSError, http.client.HTTPException):
                # The hub died mid-request: this batch's fate is unknown.
                self.unacked.append([o["id"] for o in objs])
                return
            if r.status != 202:
                self.unacked.append([o["id"] for o in objs])
                if r.status >= 500 or r.status in (400, 401, 403, 404):
                    self.errors.append(r.describe())
                return
            try:
                status = r.json()
            except ValueError:
                self.errors.append("202 without a JSON status: " + r.describe())
                return
            successes = {s["id"] for s in status.get("successes", [])}
            if status.get("status") == "complete":
                for o in objs:
                    if o["id"] in successes:
                        self.acked[o["id"]] = o
                self.status_ids.append(status["id"])
                if len(successes) != len(objs):
                    self.errors.append("not every valid object succeeded: %r" % status)
            else:
                self.unacked.append([o["id"] for o in objs])
        if conn is not None:
            conn.close()


class CrashTest(unittest.TestCase):
    def setUp(self):
        self.hub = Hub()
        self.hub.init()
        self.hub.add_user("pub", "publisher")
        self.col = None  # resolved once the hub runs

    def tearDown(self):
        self.hub.cleanup()

    def get(self, path, user="admin"):
        return self.hub.request("GET", path, auth=self.hub.basic(user))

    def present_ids(self):
        pages = read_all(self, "%scollections/%s/manifest/" % (API_ROOT, self.col), limit=10000)
        ids = [e["id"] for _, body in pages for e in body.get("objects", [])]
        self.assertEqual(len(ids), len(set(ids)), "manifest repeats objects")
        return set(ids)

    def test_kill9_during_post_stream(self):
        rng = random.Random(20261129)
        acked = {}
        unacked = []
        status_ids = []
        auth = self.hub.basic("pub")
        for round_no in range(ROUNDS):
            self.hub.start()
            self.col = self.col or self.hub.resolve_default_collection()
            stop = threading.Event()
            writers = [Writer(self.hub, self.col, auth, round_no * WRITERS + w + 1, stop)
                       for w in range(WRITERS)]
            for w in writers:
                w.start()
            # Let the stream get going (some acknowledged posts), then kill at a random moment.
            deadline = time.monotonic() + 60
            while (sum(len(w.acked) for w in writers) < 3 * BATCH
                   and time.monotonic() < deadline and any(w.is_alive() for w in writers)):
                time.sleep(0.02)
            time.sleep(rng.uniform(0.0, 0.5))
            self.hub.kill()
            stop.set()
            for w in writers:
                w.join(timeout=60)
                self.assertFalse(w.is_alive(), "writer hung")
                self.assertFalse(w.errors, w.errors)
                acked.update(w.acked)
                unacked += w.unacked
                status_ids += w.status_ids
            self.assertGreater(len(acked), 0, "no POST was acknowledged:\n" + self.hub.log_tail())

            # Restart on the same data: the store must open cleanly and hold every acked object.
            self.hub.start()
            present = self.present_ids()
            missing = set(acked) - present
            self.assertFalse(missing, "round %d: %d acknowledged objects lost after kill -9, e.g. %s"
                             % (round_no, len(missing), sorted(missing)[:3]))
            for ids in unacked:
                n = sum(1 for i in ids if i in present)
                self.assertIn(n, (0, len(ids)),
                              "round %d: a request was half committed (%d of %d objects)"
                              % (round_no, n, len(ids)))
            sys.stderr.write("round %d: %d objects acknowledged so far, %d requests unanswered "
                             "at the kill, %d objects present\n"
                             % (round_no, len(acked), len(unacked), len(present)))
            # Spot-check contents and status resources.
            sample = rng.sample(sorted(acked), min(50, len(acked)))
            for oid in sample:
                r = self.hub.request("GET", "%scollections/%s/objects/%s/" % (API_ROOT, self.col,
                                                                              oid), auth=auth)
                self.assertEqual(r.status, 200, r.describe())
                self.assertEqual(r.json()["objects"], [acked[oid]])
            for sid in rng.sample(status_ids, min(10, len(status_ids))):
                r = self.hub.request("GET", "%sstatus/%s/" % (API_ROOT, sid), auth=auth)
                self.assertEqual(r.status, 200, "status lost: " + r.describe())
                self.assertEqual(r.json().get("status"), "complete")
            # Alternate how the verified hub goes down: crash again, or a graceful stop.
            if round_no % 2:
                self.hub.kill()
            else:
                self.assertEqual(self.hub.stop(), 0, self.hub.log_tail())

        # The database file passes SQLite's own integrity check after all that.
        dbs = glob.glob(os.path.join(self.hub.data_dir, "*.db"))
        self.assertTrue(dbs, os.listdir(self.hub.data_dir))
        for db in dbs:
            con = sqlite3.connect(db)
            try:
                self.assertEqual(con.execute("PRAGMA integrity_check").fetchone()[0], "ok")
            finally:
                con.close()


if __name__ == "__main__":
    unittest.main()
