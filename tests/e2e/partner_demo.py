"""The partner scenario of issue 4, runnable (scripts/demo.sh, `make demo`; also run by
test_demo.py so it keeps working).

Three hubs on loopback, set up with the CLI as operators would: agency A and agency B are partners,
B and agency C are partners, A and C are not. A publishes an AMBER+STRICT report for B (a planned
bombing at a crowded cathedral; the cell's messenger accounts and phone numbers as indicators,
examples/partner-scenario/report.json). B receives it within milliseconds, verifies A's signature,
matches the indicators against its observation log (examples/partner-scenario/observations.jsonl)
with `liaison match`, publishes the sightings and tells A "acted on: suspects detained". A sees the
delivery receipts and the feedback; C never receives anything. Every step is checked; the timeline
shows measured latencies. Exit status 0 only when every step held.

    python3 tests/e2e/partner_demo.py --liaison build/release/src/cli/liaison
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

import stix_sig  # noqa: E402
from federation import (TLP_MARKING, EventStream, Federation, channel, partner,  # noqa: E402
                        partner_auth, wait_until)

SCENARIO = os.path.join(ROOT, "examples", "partner-scenario")


class StepFailed(Exception):
    pass


class Demo:
    def __init__(self, verbose=True):
        self.verbose = verbose
        self.timeline = []  # (ms since t0, hub, text)
        self.t0 = None
        self.steps_ok = 0

    def say(self, text):
        if self.verbose:
            print(text, flush=True)

    def mark(self, hub, text, at=None):
        """Records a timeline entry (printed in time order at the end) and narrates it now."""
        at = time.monotonic() if at is None else at
        ms = (at - self.t0) * 1000.0 if self.t0 is not None else 0.0
        self.timeline.append((ms, hub, text))
        self.say("   %s: %s" % (hub, text))

    def print_timeline(self):
        if not self.timeline:
            return
        print("\n== Timeline (ms since A started publishing)", flush=True)
        for ms, hub, text in sorted(self.timeline, key=lambda e: e[0]):
            print("  %9.1f ms  %-2s %s" % (ms, hub, text), flush=True)

    def check(self, condition, what):
        if not condition:
            raise StepFailed(what)
        self.steps_ok += 1

    def run(self):
        fed = Federation(("a", "Agency A"), ("b", "Agency B"), ("c", "Agency C"))
        try:
            return self._run(fed)
        finally:
            if self.verbose:
                self.print_timeline()
            bad = fed.close()
            if bad:
                print("demo: hubs did not stop cleanly: %r" % bad, file=sys.stderr)

    def _run(self, fed):
        a, b, c = fed.hubs
        self.say("== Three hubs on loopback (liaison init + serve each)")
        fed.start_all()
        for h in (a, b, c):
            self.say("   %s  %-9s %s  identity %s  key fingerprint %s" % (
                h.name.upper(), h.org, h.api_url, h.identity_id, h.identity["fingerprint"][:16]))

        self.say("== Partnerships with the CLI (identity export, partner add on both sides, "
                 "token exchange, channel add)")
        partner(a, b)
        partner(b, c)
        channel(a, b, a.default_collection, max_tlp="red")
        channel(b, c, b.inbox, max_tlp="green")
        self.say("   A <-> B partners; A pushes its default collection to B (up to RED)")
        self.say("   B <-> C partners; B pushes its inbox onward to C (up to GREEN)")
        self.say("   A and C are not partners")

        with open(os.path.join(SCENARIO, "report.json"), encoding="utf-8") as f:
            bundle = json.load(f)
        objects = bundle["objects"]
        for obj in objects:
            obj["object_marking_refs"] = [TLP_MARKING["amber+strict"]]
            obj["x_liaison_recipients"] = [b.identity_id]
        report = next(o for o in objects if o["type"] == "report")
        indicators = [o for o in objects if o["type"] == "indicator"]
        ids = {o["id"] for o in objects}

        # Each user's first request pays for a password hash verification (argon2id); later ones
        # hit the hub's credential cache. Warm them up so the timeline measures the sharing path.
        for h in (a, b, c):
            for user in (h.admin_user, "pub", "reader"):
                h.request("GET", "/api/", auth=h.basic(user))
        for x, y in ((a, b), (b, a), (b, c), (c, b)):
            x.request("GET", "/api/", auth=partner_auth(x, y))

        self.say("== The scenario")
        b_events = EventStream(b, b.basic(b.admin_user))
        a_events = EventStream(a, a.basic(a.admin_user))
        c_events = EventStream(c, c.basic(c.admin_user))
        try:
            self.check(b_events.status == 200 and a_events.status == 200, "event streams open")
            self.t0 = time.monotonic()
            status = a.publish(objects)
            self.mark("A", "publishes the AMBER+STRICT report for Agency B: %d objects "
                      "(report + %d indicators), status %s" % (
                          len(objects), len(indicators), status.get("status")), at=self.t0)
            self.mark("A", "POST answered (202, %d successes)" % status.get("success_count", 0))
            self.check(status.get("success_count") == len(objects), "A accepted the report")

            arrived = {}
            for _ in ids:
                ev = b_events.wait(lambda e: e["event"] == "object"
                                   and isinstance(e["data"], dict)
                                   and e["data"].get("id") in ids
                                   and e["data"]["id"] not in arrived)
                arrived[ev["data"]["id"]] = ev["arrived"]
            self.mark("B", "has the report: all %d objects announced on B's event stream"
                      % len(ids), at=max(arrived.values()))
            got = b.get_object(b.inbox, report["id"], user="reader")
            self.check(got and got[0].get("name") == report["name"],
                       "B's analysts read the report")

            delivered = {}
            for _ in ids:
                ev = a_events.wait(lambda e: e["event"] == "receipt"
                                   and isinstance(e["data"], dict)
                                   and e["data"].get("object") in ids
                                   and e["data"].get("state") == "delivered"
                                   and e["data"]["object"] not in delivered)
                delivered[ev["data"]["object"]] = ev["arrived"]
            self.mark("A", "sees %d delivery receipts: delivered to Agency B (A's event stream)"
                      % len(delivered), at=max(delivered.values()))
            self.latency_ms = (max(arrived.values()) - self.t0) * 1000
            self.say("   publish-to-visible at B: %.1f ms" % self.latency_ms)

            # Provenance: a forgery claiming to come from A is refused by B.
            forged = stix_sig.sign_object(dict(indicators[0], id="indicator--"
                                               "0badf00d-0000-4000-8000-000000000001",
                                               name="forged: stand down"),
                                          a.identity_id, os.urandom(32))
            r = b.request("POST", b.objects_path(b.inbox), body={"objects": [forged]},
                          auth=partner_auth(b, a))
            st = r.json() if r.status == 202 else {}
            self.check(st.get("failure_count") == 1, "B refuses a forged object: %s" %
                       r.describe())
            self.mark("B", "refuses a forged copy signed with another key: %s"
                      % st["failures"][0].get("message", "")[:90])

            # B matches the indicators against its observation log.
            work = tempfile.mkdtemp(prefix="liaison-demo-")
            ind_path = os.path.join(work, "indicators.json")
            held = b.all_objects(b.inbox, auth=b.basic("reader"), query="match[type]=indicator")
            with open(ind_path, "w", encoding="utf-8") as f:
                json.dump({"objects": held}, f)
            start = time.monotonic()
            p = subprocess.run([b.binary, "match", "--indicators", ind_path, "--observed",
                                os.path.join(SCENARIO, "observations.jsonl")],
                               capture_output=True, text=True, timeout=120)
            self.check(p.returncode == 0, "liaison match found hits: " + p.stderr)
            sightings = [json.loads(line) for line in p.stdout.splitlines() if line.strip()]
            self.mark("B", "liaison match: %d of %d indicators seen in the observation log "
                      "(%.1f ms)" % (len(sightings), len(indicators),
                                     (time.monotonic() - start) * 1000))
            self.check(len(sightings) == 3, "three hits expected, got %d" % len(sightings))

            for s in sightings:
                s["object_marking_refs"] = [TLP_MARKING["amber+strict"]]
                s["x_liaison_recipients"] = [a.identity_id]
                s["x_liaison_feedback"] = {"outcome": "seen",
                                           "note": "seen in B's messenger and phone records"}
            sight_path = os.path.join(work, "sightings.json")
            with open(sight_path, "w", encoding="utf-8") as f:
                json.dump({"type": "bundle", "id": "bundle--7e0f6a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b",
                           "objects": sightings}, f)
            b.cli("publish", "--url", b.api_url, "--collection", b.default_collection,
                  "--user", "pub", "--password-stdin", sight_path,
                  input=b.passwords["pub"] + "\n")
            p = b.cli("feedback", "send", "--url", b.api_url, "--user", "pub",
                      "--password-stdin", "--collection", b.default_collection,
                      "--object", report["id"], "--outcome", "acted-on",
                      "--note", "suspects detained", "--tlp", "amber+strict",
                      "--recipient", a.identity_id, input=b.passwords["pub"] + "\n")
            acted_id = p.stdout.strip().split()[-1] if p.stdout.strip() else ""
            self.check(acted_id.startswith("sighting--"),
                       "feedback send prints the sighting id: %r" % p.stdout)

            # When B committed each feedback object (B's stream) and when A had it (A's stream).
            feedback_ids = [s["id"] for s in sightings] + [acted_id]
            at_b, at_a = {}, {}
            for fid in feedback_ids:
                ev = b_events.wait(lambda e, fid=fid: e["event"] == "object"
                                   and isinstance(e["data"], dict) and e["data"].get("id") == fid)
                at_b[fid] = ev["arrived"]
                ev = a_events.wait(lambda e, fid=fid: e["event"] == "feedback"
                                   and isinstance(e["data"], dict)
                                   and e["data"].get("feedback_id") == fid)
                at_a[fid] = (ev["arrived"], ev["data"])
            sighting_ids = feedback_ids[:-1]
            self.mark("B", "publishes %d sightings for Agency A (liaison publish, AMBER+STRICT "
                      "named A)" % len(sightings), at=min(at_b[f] for f in sighting_ids))
            self.mark("A", "has the %d sightings as feedback on its indicators (%.1f ms after B "
                      "committed them)" % (len(sighting_ids), max(
                          (at_a[f][0] - at_b[f]) * 1000 for f in sighting_ids)),
                      at=max(at_a[f][0] for f in sighting_ids))
            self.mark("B", "liaison feedback send: acted-on \"suspects detained\"",
                      at=at_b[acted_id])
            self.check(at_a[acted_id][1].get("outcome") == "acted-on",
                       "A received the acted-on feedback: %r" % (at_a[acted_id][1],))
            self.mark("A", "receives \"acted-on: suspects detained\" (%.1f ms after B committed "
                      "it)" % ((at_a[acted_id][0] - at_b[acted_id]) * 1000), at=at_a[acted_id][0])
            records = a.feedback(report["id"])
            self.check(any(r["outcome"] == "acted-on" and r["note"] == "suspects detained"
                           and r["from"] == b.identity_id for r in records),
                       "A lists the acted-on feedback on its report: %r" % records)
            out_feedback = a.cli_data("feedback", "list", "--object", report["id"]).stdout
            self.check("suspects detained" in out_feedback, "liaison feedback list shows it")
            out_receipts = a.cli_data("receipts", "--object", report["id"]).stdout
            self.check("delivered" in out_receipts, "liaison receipts shows the delivery")

            # C: nothing at all.
            c_held = c.all_objects(c.inbox) + c.all_objects(c.default_collection)
            self.check(not (ids & {o.get("id") for o in c_held}), "C holds none of it")
            self.check(all(not b.receipts(object_id=i) for i in ids),
                       "B queued nothing onward for C")
            leaked = [e for e in c_events.drain(quiet=0.2) if e["event"] == "object"]
            self.check(not leaked, "C's event stream stayed silent: %r" % leaked)
            self.mark("C", "has received nothing (AMBER+STRICT never goes onward); its event "
                      "stream stayed silent")
        finally:
            for s in (a_events, b_events, c_events):
                s.close()

        for h in (a, b, c):
            out = h.cli_data("audit", "verify").stdout.strip()
            self.check("audit chain OK" in out, "audit chain of %s: %s" % (h.name, out))
        self.say("== Audit chains verified on all three hubs")

        self.say("\nA's receipts for the report (liaison receipts --object %s):" % report["id"])
        self.say("  " + out_receipts.strip().replace("\n", "\n  "))
        self.say("A's feedback on the report (liaison feedback list --object %s):" % report["id"])
        self.say("  " + out_feedback.strip().replace("\n", "\n  "))
        return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--liaison", help="the liaison binary (default: $LIAISON_BIN)")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    if args.liaison:
        os.environ["LIAISON_BIN"] = os.path.abspath(args.liaison)
    demo = Demo(verbose=not args.quiet)
    started = time.monotonic()
    try:
        rc = demo.run()
    except StepFailed as e:
        print("demo FAILED at step %d: %s" % (demo.steps_ok + 1, e), file=sys.stderr)
        return 1
    except Exception as e:  # a hub or CLI call failed: report it as a failed step
        print("demo FAILED at step %d: %s: %s" % (demo.steps_ok + 1, type(e).__name__, e),
              file=sys.stderr)
        return 1
    print("\ndemo OK: %d checks held (%.1f s)" % (demo.steps_ok, time.monotonic() - started))
    return rc


if __name__ == "__main__":
    sys.exit(main())
