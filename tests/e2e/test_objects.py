"""Objects, object, versions, manifest and status resources over real HTTP, with every filter.

TAXII 2.1 sections 3.4 (filtering, paging), 3.5 (envelope), 4.3 (status), 5.3-5.8 (objects,
object, versions, manifest), 3.3 (X-TAXII-Date-Added-First/Last headers).
"""

import json
import unittest
import uuid

from hub import (API_ROOT, HubTestCase, envelope, indicator, malware, minified, parse_time,
                 read_all, stix_time, urlquote)


class ObjectsTest(HubTestCase):
    # Helpers ------------------------------------------------------------------------------

    def objects(self, query="", user="reader", col=None):
        r = self.get(self.objects_path(col, query), user=user)
        self.assertEqual(r.status, 200, r.describe())
        self.assertTaxiiContentType(r)
        return r, r.json()

    def by_ids(self, ids, extra=""):
        q = "?match[id]=" + ",".join(ids) + (("&" + extra) if extra else "")
        return self.objects(q)

    def object_path(self, obj_id, suffix="", query=""):
        return "%scollections/%s/objects/%s/%s%s" % (API_ROOT, self.col, obj_id, suffix, query)

    def manifest(self, query=""):
        r = self.get("%scollections/%s/manifest/%s" % (API_ROOT, self.col, query), user="reader")
        self.assertEqual(r.status, 200, r.describe())
        self.assertTaxiiContentType(r)
        return r, r.json()

    # POST and GET -------------------------------------------------------------------------

    def test_post_returns_complete_status_with_successes(self):
        objs = [indicator(i) for i in range(3)]
        status = self.publish(objs)
        self.assertIsInstance(status.get("id"), str)
        self.assertEqual(status.get("total_count"), 3, status)
        self.assertEqual(status.get("success_count"), 3, status)
        self.assertEqual(status.get("failure_count", 0), 0, status)
        self.assertEqual(status.get("pending_count", 0), 0, status)
        self.assertIsInstance(status.get("request_timestamp"), str, status)
        parse_time(status["request_timestamp"])
        got = {s["id"]: s for s in status.get("successes", [])}
        self.assertEqual(set(got), {o["id"] for o in objs}, status)
        for o in objs:
            self.assertEqual(parse_time(got[o["id"]]["version"]), parse_time(o["modified"]))

    def test_objects_served_byte_for_byte_as_posted(self):
        oid = "indicator--%s" % uuid.uuid4()
        # Unusual key order, custom properties, non-ASCII text, numbers written oddly, nested.
        raw = (
            '{"pattern_type":"stix","x_e2e_score":1.50,"id":"%s","type":"indicator",'
            '"name":"Ünïcödé 指標 🚀","spec_version":"2.1","created":"2024-03-01T10:00:00.123Z",'
            '"modified":"2024-03-01T10:00:00.123Z","x_e2e_nested":{"z":[1,2,{"a":null}],"b":true},'
            '"pattern":"[domain-name:value = \'example.com\']","valid_from":"2024-03-01T10:00:00Z",'
            '"confidence":85,"labels":["b","a"]}' % oid
        )
        body = '{"objects":[%s]}' % raw
        r = self.post(self.objects_path(), body.encode("utf-8"))
        self.assertEqual(r.status, 202, r.describe())
        self.assertEqual(r.json().get("success_count"), 1, r.describe())
        raw_bytes = raw.encode("utf-8")
        r = self.get(self.object_path(oid), user="reader")
        self.assertEqual(r.status, 200, r.describe())
        self.assertIn(raw_bytes, r.body, "object not served byte for byte:\n" + r.describe())
        _, listing = self.by_ids([oid])
        r2 = self.get(self.objects_path(query="?match[id]=" + oid), user="reader")
        self.assertIn(raw_bytes, r2.body, r2.describe())
        self.assertEqual(listing["objects"][0], json.loads(raw))

    def test_json_escapes_kept_as_posted(self):
        oid = "indicator--%s" % uuid.uuid4()
        raw = (
            '{"type":"indicator","spec_version":"2.1","id":"%s","created":"2024-03-01T10:00:00Z",'
            '"modified":"2024-03-01T10:00:00Z","name":"caf\\u00e9 \\"q\\" \\/ \\t tab",'
            '"pattern":"[file:name = \'a\\\\\\\\b.exe\']","pattern_type":"stix",'
            '"valid_from":"2024-03-01T10:00:00Z"}' % oid
        )
        json.loads(raw)  # the test's own input is valid JSON
        r = self.post(self.objects_path(), ('{"objects":[%s]}' % raw).encode("utf-8"))
        self.assertEqual(r.status, 202, r.describe())
        self.assertEqual(r.json().get("success_count"), 1, r.describe())
        r = self.get(self.object_path(oid), user="reader")
        self.assertEqual(r.status, 200, r.describe())
        self.assertIn(raw.encode("utf-8"), r.body, r.describe())

    def test_pretty_printed_input_served_minified(self):
        obj = indicator(7, x_e2e_list=[1, 2, 3], description="line one\nline two")
        pretty = json.dumps({"objects": [obj]}, indent=4, ensure_ascii=False)
        r = self.post(self.objects_path(), pretty.encode("utf-8"))
        self.assertEqual(r.status, 202, r.describe())
        r = self.get(self.object_path(obj["id"]), user="reader")
        self.assertEqual(r.status, 200, r.describe())
        self.assertIn(minified(obj).encode("utf-8"), r.body, r.describe())

    def test_get_object_endpoint(self):
        obj = indicator(1)
        self.publish([obj])
        r = self.get(self.object_path(obj["id"]), user="reader")
        self.assertEqual(r.status, 200, r.describe())
        self.assertTaxiiContentType(r)
        body = r.json()
        self.assertEqual(body.get("objects"), [obj], body)
        self.assertIsNotNone(r.header("X-TAXII-Date-Added-First"), r.describe())
        self.assertIsNotNone(r.header("X-TAXII-Date-Added-Last"), r.describe())

    def test_get_unknown_object_is_404(self):
        r = self.get(self.object_path("indicator--%s" % uuid.uuid4()), user="reader")
        self.assertTaxiiError(r, 404)

    def test_empty_result_is_200_with_empty_envelope(self):
        _, body = self.objects("?match[id]=indicator--%s" % uuid.uuid4())
        self.assertEqual(body.get("objects", []), [], body)
        self.assertFalse(body.get("more", False), body)

    # Filters ------------------------------------------------------------------------------

    def test_match_type_and_comma_separated_values(self):
        ind = indicator(2)
        mal = malware()
        self.publish([ind, mal])
        ids = [ind["id"], mal["id"]]
        _, body = self.by_ids(ids, "match[type]=malware")
        self.assertEqual([o["id"] for o in body["objects"]], [mal["id"]])
        _, body = self.by_ids(ids, "match[type]=indicator")
        self.assertEqual([o["id"] for o in body["objects"]], [ind["id"]])
        _, body = self.by_ids(ids, "match[type]=indicator,malware")
        self.assertEqual({o["id"] for o in body["objects"]}, set(ids))
        _, body = self.by_ids(ids, "match[type]=campaign")
        self.assertEqual(body.get("objects", []), [])

    def test_match_id_single_and_several(self):
        objs = [indicator(i) for i in range(4)]
        self.publish(objs)
        _, body = self.by_ids([objs[2]["id"]])
        self.assertEqual(body["objects"], [objs[2]])
        _, body = self.by_ids([objs[0]["id"], objs[3]["id"]])
        self.assertEqual({o["id"] for o in body["objects"]}, {objs[0]["id"], objs[3]["id"]})
        # Repeated parameters are not in TAXII, but an unknown id among known ones is ignored.
        _, body = self.by_ids([objs[1]["id"], "indicator--%s" % uuid.uuid4()])
        self.assertEqual([o["id"] for o in body["objects"]], [objs[1]["id"]])

    def test_match_spec_version(self):
        obj = indicator(3)
        self.publish([obj])
        _, body = self.by_ids([obj["id"]], "match[spec_version]=2.1")
        self.assertEqual(len(body["objects"]), 1, body)
        _, body = self.by_ids([obj["id"]], "match[spec_version]=2.0")
        self.assertEqual(body.get("objects", []), [], body)
        _, body = self.by_ids([obj["id"]], "match[spec_version]=2.0,2.1")
        self.assertEqual(len(body["objects"]), 1, body)

    def test_added_after_is_exclusive_and_headers_match(self):
        a, b, c = indicator(10), indicator(11), indicator(12)
        self.publish([a])
        self.publish([b])
        self.publish([c])
        ids = [a["id"], b["id"], c["id"]]
        r, body = self.by_ids(ids)
        self.assertEqual([o["id"] for o in body["objects"]], ids, "ordered by date_added")
        first = r.header("X-TAXII-Date-Added-First")
        last = r.header("X-TAXII-Date-Added-Last")
        self.assertIsNotNone(first, r.describe())
        self.assertIsNotNone(last, r.describe())
        self.assertLess(parse_time(first), parse_time(last))
        # The manifest tells each object's date_added; the headers are the first and the last.
        _, man = self.manifest("?match[id]=" + ",".join(ids))
        added = [m["date_added"] for m in man["objects"]]
        self.assertEqual([m["id"] for m in man["objects"]], ids)
        self.assertEqual(parse_time(first), parse_time(added[0]))
        self.assertEqual(parse_time(last), parse_time(added[2]))
        # added_after is exclusive: after a's date_added gives b and c.
        r, body = self.by_ids(ids, "added_after=" + urlquote(added[0]))
        self.assertEqual([o["id"] for o in body["objects"]], ids[1:])
        self.assertEqual(parse_time(r.header("X-TAXII-Date-Added-First")), parse_time(added[1]))
        _, body = self.by_ids(ids, "added_after=" + urlquote(added[2]))
        self.assertEqual(body.get("objects", []), [])

    def test_limit_more_next(self):
        objs = [indicator(i) for i in range(25)]
        self.publish(objs)
        ids = [o["id"] for o in objs]
        extra = "match[id]=" + ",".join(ids)
        pages = read_all(self, self.objects_path(), user="reader", limit=10, extra=extra)
        self.assertEqual(len(pages), 3, [p[1].get("more") for p in pages])
        self.assertEqual([len(p[1]["objects"]) for p in pages], [10, 10, 5])
        self.assertTrue(pages[0][1]["more"])
        self.assertTrue(pages[1][1]["more"])
        self.assertFalse(pages[2][1].get("more", False))
        seen = [o["id"] for _, b in pages for o in b["objects"]]
        self.assertEqual(sorted(seen), sorted(ids))
        self.assertEqual(len(seen), len(set(seen)))
        self.assertNotEqual(pages[0][1]["next"], pages[1][1]["next"])

    def test_limit_one_and_huge(self):
        objs = [indicator(i) for i in range(3)]
        self.publish(objs)
        extra = "match[id]=" + ",".join(o["id"] for o in objs)
        _, body = self.objects("?limit=1&" + extra)
        self.assertEqual(len(body["objects"]), 1)
        self.assertTrue(body.get("more"))
        # A limit larger than the server's maximum is lowered, not refused (TAXII 2.1 3.4.1).
        _, body = self.objects("?limit=100000000&" + extra)
        self.assertEqual(len(body["objects"]), 3)
        self.assertFalse(body.get("more", False))

    # Versions -----------------------------------------------------------------------------

    def test_versioning_and_match_version(self):
        t1, t2, t3 = stix_time(2024, 2, 1), stix_time(2024, 2, 2), stix_time(2024, 2, 3)
        v1 = indicator(20, created=t1, modified=t1)
        oid = v1["id"]
        v2 = dict(v1, modified=t2, name="second")
        v3 = dict(v1, modified=t3, name="third")
        self.publish([v1])
        # The same (id, modified) again is a no-op counted as a success.
        status = self.publish([v1])
        self.assertEqual(status.get("success_count"), 1, status)
        r = self.get(self.object_path(oid, "versions/"), user="reader")
        self.assertEqual(r.status, 200, r.describe())
        self.assertEqual(len(r.json().get("versions", [])), 1, r.describe())
        self.publish([v3])
        self.publish([v2])  # an older version arriving later is still a version
        r = self.get(self.object_path(oid, "versions/"), user="reader")
        self.assertEqual(r.status, 200, r.describe())
        self.assertTaxiiContentType(r)
        body = r.json()
        self.assertEqual(sorted(parse_time(v) for v in body["versions"]),
                         [parse_time(t1), parse_time(t2), parse_time(t3)], body)
        self.assertFalse(body.get("more", False))
        self.assertIsNotNone(r.header("X-TAXII-Date-Added-First"), r.describe())
        self.assertIsNotNone(r.header("X-TAXII-Date-Added-Last"), r.describe())

        def names(query):
            rr = self.get(self.object_path(oid, "", query), user="reader")
            self.assertEqual(rr.status, 200, rr.describe())
            return sorted(o["name"] for o in rr.json().get("objects", []))

        # Default is the latest version (TAXII 2.1 section 3.4.2).
        self.assertEqual(names(""), ["third"])
        self.assertEqual(names("?match[version]=last"), ["third"])
        self.assertEqual(names("?match[version]=first"), [v1["name"]])
        self.assertEqual(names("?match[version]=all"), sorted([v1["name"], "second", "third"]))
        self.assertEqual(names("?match[version]=" + t2), ["second"])
        self.assertEqual(names("?match[version]=first,last"), sorted([v1["name"], "third"]))
        self.assertEqual(names("?match[version]=%s,%s" % (t1, t3)),
                         sorted([v1["name"], "third"]))
        # No version matches: an empty envelope or 404 (the spec allows either reading).
        rr = self.get(self.object_path(oid, "", "?match[version]=2030-01-01T00:00:00.000Z"),
                      user="reader")
        if rr.status == 200:
            self.assertEqual(rr.json().get("objects", []), [], rr.describe())
        else:
            self.assertTaxiiError(rr, 404)
        # The same filters on the objects endpoint.
        _, body = self.by_ids([oid], "match[version]=all")
        self.assertEqual(len(body["objects"]), 3)
        _, body = self.by_ids([oid])
        self.assertEqual([o["name"] for o in body["objects"]], ["third"])
        # Manifest: one entry per version with all, the latest by default.
        _, man = self.manifest("?match[id]=%s&match[version]=all" % oid)
        self.assertEqual(sorted(parse_time(m["version"]) for m in man["objects"]),
                         [parse_time(t1), parse_time(t2), parse_time(t3)])
        _, man = self.manifest("?match[id]=" + oid)
        self.assertEqual([parse_time(m["version"]) for m in man["objects"]], [parse_time(t3)])

    def test_versions_of_unknown_object_is_404(self):
        self.assertTaxiiError(
            self.get(self.object_path("indicator--%s" % uuid.uuid4(), "versions/"), user="reader"),
            404)

    def test_versions_paging(self):
        base = indicator(30, created=stix_time(2024, 4, 1))
        versions = [dict(base, modified=stix_time(2024, 4, 1, second=s)) for s in range(7)]
        self.publish(versions)
        seen = []
        nxt = None
        for _ in range(10):
            q = "?limit=3" + ("&next=" + urlquote(nxt) if nxt else "")
            r = self.get(self.object_path(base["id"], "versions/", q), user="reader")
            self.assertEqual(r.status, 200, r.describe())
            body = r.json()
            seen += body.get("versions", [])
            if not body.get("more"):
                break
            nxt = body["next"]
        self.assertEqual(sorted(parse_time(v) for v in seen),
                         sorted(parse_time(v["modified"]) for v in versions))

    # Manifest -----------------------------------------------------------------------------

    def test_manifest(self):
        objs = [indicator(40), malware()]
        self.publish(objs)
        r, man = self.manifest("?match[id]=" + ",".join(o["id"] for o in objs))
        entries = man.get("objects", [])
        self.assertEqual([e["id"] for e in entries], [o["id"] for o in objs])
        for e, o in zip(entries, objs):
            parse_time(e["date_added"])
            self.assertEqual(parse_time(e["version"]), parse_time(o["modified"]))
            self.assertEqual(e["media_type"].replace(" ", ""),
                             "application/stix+json;version=2.1")
        self.assertIsNotNone(r.header("X-TAXII-Date-Added-First"), r.describe())
        _, man = self.manifest("?match[id]=%s&match[type]=malware"
                               % ",".join(o["id"] for o in objs))
        self.assertEqual([e["id"] for e in man["objects"]], [objs[1]["id"]])

    # Delete -------------------------------------------------------------------------------

    def test_delete_object(self):
        obj = indicator(50)
        self.publish([obj])
        r = self.hub.request("DELETE", self.object_path(obj["id"]), auth=self.auth("reader"))
        self.assertTaxiiError(r, 403)
        r = self.hub.request("DELETE", self.object_path(obj["id"]), auth=self.auth("pub"))
        self.assertEqual(r.status, 200, r.describe())
        self.assertTaxiiError(self.get(self.object_path(obj["id"]), user="reader"), 404)
        r = self.hub.request("DELETE", self.object_path(obj["id"]), auth=self.auth("pub"))
        self.assertTaxiiError(r, 404)

    def test_delete_one_version(self):
        t1, t2 = stix_time(2024, 5, 1), stix_time(2024, 5, 2)
        v1 = indicator(51, created=t1, modified=t1)
        v2 = dict(v1, modified=t2)
        self.publish([v1, v2])
        r = self.hub.request("DELETE", self.object_path(v1["id"], "", "?match[version]=first"),
                             auth=self.auth("admin"))
        self.assertEqual(r.status, 200, r.describe())
        r = self.get(self.object_path(v1["id"], "versions/"), user="reader")
        self.assertEqual([parse_time(v) for v in r.json()["versions"]], [parse_time(t2)],
                         r.describe())

    # Status -------------------------------------------------------------------------------

    def test_partial_failure_reported_per_object(self):
        good = indicator(60)
        bad_pattern_missing = indicator(61)
        del bad_pattern_missing["pattern"]
        bad_modified = indicator(62, created=stix_time(2024, 6, 2), modified=stix_time(2024, 6, 1))
        r = self.post(self.objects_path(), envelope([good, bad_pattern_missing, bad_modified]))
        self.assertEqual(r.status, 202, r.describe())
        status = r.json()
        self.assertEqual(status.get("status"), "complete", status)
        self.assertEqual(status.get("total_count"), 3, status)
        self.assertEqual(status.get("success_count"), 1, status)
        self.assertEqual(status.get("failure_count"), 2, status)
        self.assertEqual([s["id"] for s in status.get("successes", [])], [good["id"]])
        failures = {f["id"]: f for f in status.get("failures", [])}
        self.assertEqual(set(failures), {bad_pattern_missing["id"], bad_modified["id"]}, status)
        for f in failures.values():
            self.assertIsInstance(f.get("message"), str, f)
            self.assertTrue(f["message"], f)
        self.assertIn("pattern", failures[bad_pattern_missing["id"]]["message"])
        self.assertIn("modified", failures[bad_modified["id"]]["message"])
        # Only the valid object was stored.
        _, body = self.by_ids([good["id"], bad_pattern_missing["id"], bad_modified["id"]])
        self.assertEqual([o["id"] for o in body["objects"]], [good["id"]])

    def test_status_resource_readable_by_poster_and_admin_only(self):
        status = self.publish([indicator(70)], user="pub")
        path = "%sstatus/%s/" % (API_ROOT, status["id"])
        for user in ("pub", "admin"):
            r = self.get(path, user=user)
            self.assertEqual(r.status, 200, (user, r.describe()))
            self.assertTaxiiContentType(r)
            got = r.json()
            self.assertEqual(got.get("id"), status["id"])
            self.assertEqual(got.get("status"), "complete")
            self.assertEqual(got.get("success_count"), 1)
            self.assertEqual(got.get("total_count"), 1)
            self.assertEqual([s["id"] for s in got.get("successes", [])],
                             [s["id"] for s in status.get("successes", [])])
        for user in ("pub2", "reader"):
            r = self.get(path, user=user)
            self.assertIn(r.status, (403, 404), (user, r.describe()))
            self.assertTaxiiError(r, r.status)

    def test_envelope_without_objects(self):
        for body in ({"objects": []}, {}):
            r = self.post(self.objects_path(), body)
            # An empty envelope is either accepted with nothing to do or refused as bad input.
            if r.status == 202:
                self.assertEqual(r.json().get("total_count"), 0, r.describe())
            else:
                self.assertTaxiiError(r, 400)


if __name__ == "__main__":
    unittest.main()
