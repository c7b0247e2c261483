"""Hostile and malformed input: every case gets a 4xx (with a TAXII error body where HTTP got that
far) and the hub keeps serving. tearDown (HubTestCase) checks the process is still alive after each
test; assertServing() checks it still answers.
"""

import json
import os
import socket
import unittest

from hub import (API_ROOT, TAXII, HubTestCase, envelope, indicator, raw_exchange, stix_time,
                 urlquote)


class BadQueryTest(HubTestCase):
    def q(self, query, path=None):
        return self.get((path or self.objects_path()) + query, user="reader")

    def test_bad_limits(self):
        for value in ("0", "-1", "abc", "1.5", "", "99999999999999999999999999", "1e3", "0x10",
                      " 5", "5 "):
            r = self.q("?limit=" + urlquote(value))
            if r.status == 200:
                # A server may clamp odd limits; it must still answer a well-formed envelope.
                self.assertIsInstance(r.json(), dict, r.describe())
            else:
                self.assertTaxiiError(r, 400)
        self.assertServing()

    def test_garbage_next(self):
        for value in ("garbage", "\x00\x01\x02", "eyJ4IjoxfQ==", "\u00e9\u00e8",
                      "../../etc/passwd", "{}", "null", "A" * 2000):
            r = self.q("?next=" + urlquote(value))
            self.assertTaxiiError(r, 400)
        # A next beyond the request-target limit may be refused as such.
        r = self.q("?next=" + "A" * 10000)
        self.assertIn(r.status, (400, 414), r.describe())
        self.assertTaxiiError(r, r.status)
        self.assertServing()

    def test_bad_timestamps(self):
        for value in ("yesterday", "2024-13-01T00:00:00Z", "2024-01-01", "2024-01-01T25:00:00Z",
                      "2024-02-30T00:00:00Z", "2024-01-01T00:00:00+01:00", "0000-00-00T00:00:00Z",
                      "99999-01-01T00:00:00Z", "", "2024-01-01T00:00:00.Z"):
            r = self.q("?added_after=" + urlquote(value))
            self.assertTaxiiError(r, 400)
            r = self.q("?match[version]=" + urlquote(value))
            self.assertTaxiiError(r, 400)
        self.assertServing()

    def test_bad_filters(self):
        for query in ("?match[spec_version]=2.x", "?match[version]=sometimes",
                      "?match[id]=" + urlquote("not an id"), "?match[type]=" + urlquote("Bad Type!"),
                      "?match[unknown]=x", "?match[id]=" + "a," * 20000):
            r = self.q(query)
            # Unknown or odd filter values may match nothing (200) or be refused (400).
            self.assertIn(r.status, (200, 400, 414, 431), (query[:60], r.describe()))
            if r.status == 200:
                self.assertEqual(r.json().get("objects", []), [], (query[:60], r.describe()))
            elif r.status == 400:
                self.assertTaxiiError(r, 400)
        self.assertServing()

    def test_bad_ids_in_paths(self):
        for oid in ("not-an-id", "indicator--zzz", "%00", "..", "indicator--" + "a" * 5000):
            r = self.get(self.objects_path(query="") + oid + "/", user="reader")
            self.assertIn(r.status, (400, 404, 414, 431), r.describe())
            if r.status in (400, 404):
                self.assertTaxiiError(r, r.status)
        self.assertServing()

    def test_path_traversal_and_odd_paths(self):
        for path in ("/../../etc/passwd", "/api/../taxii2/", "//", "/api//collections/",
                     "/api/collections/%2e%2e/", "/%ff/", "/api/collections/" + "x" * 3000 + "/"):
            r = self.get(path, user="reader")
            self.assertLess(r.status, 500, (path[:60], r.describe()))
            self.assertNotIn(b"root:", r.body)
        self.assertServing()


class BadBodyTest(HubTestCase):
    def post_raw(self, data, user="pub", content_type=TAXII):
        return self.hub.request("POST", self.objects_path(), body=data, auth=self.auth(user),
                                content_type=content_type)

    def test_malformed_json(self):
        for data in (b"", b"{", b"}", b"[]", b"null", b"42", b'"objects"', b"{objects:[]}",
                     b'{"objects":[}', b'{"objects":[{"type":"indicator",}]}',
                     b'{"objects":[1,2,3', b"\x00\x00\x00", b'{"objects":[]} trailing',
                     b'{"objects":NaN}'):
            r = self.post_raw(data)
            self.assertTaxiiError(r, 400)
        self.assertServing()

    def test_wrong_types(self):
        cases = [
            {"objects": "not a list"},
            {"objects": {"type": "indicator"}},
            {"objects": [1, "two", None, True]},
            {"objects": None},
            {"objects": [[]]},
        ]
        for body in cases:
            r = self.post_raw(json.dumps(body).encode())
            if r.status == 202:
                # Non-object members may instead be reported as failures of a partial success.
                status = r.json()
                self.assertEqual(status.get("success_count"), 0, r.describe())
            else:
                self.assertTaxiiError(r, 400)
        bad_props = indicator()
        bad_props.update({"created": 12345, "name": ["x"], "labels": "not-a-list",
                          "confidence": "high"})
        r = self.post_raw(json.dumps(envelope([bad_props])).encode())
        if r.status == 202:
            self.assertEqual(r.json().get("failure_count"), 1, r.describe())
        else:
            self.assertTaxiiError(r, 400)
        self.assertServing()

    def test_invalid_objects_are_failures_not_errors(self):
        objs = [
            {"type": "indicator"},
            dict(indicator(), id="indicator--not-a-uuid"),
            dict(indicator(), id="malware--6f0e3c1a-1b2c-4d3e-8f40-5a6b7c8d9e0f"),
            dict(indicator(), spec_version="2.0"),
            dict(indicator(), created="not-a-time"),
            {"type": "relationship", "spec_version": "2.1",
             "id": "relationship--6f0e3c1a-1b2c-4d3e-8f40-5a6b7c8d9e01",
             "created": stix_time(), "modified": stix_time(), "relationship_type": "uses"},
        ]
        r = self.post_raw(json.dumps(envelope(objs)).encode())
        self.assertEqual(r.status, 202, r.describe())
        status = r.json()
        self.assertEqual(status.get("total_count"), len(objs), status)
        self.assertEqual(status.get("success_count"), 0, status)
        self.assertEqual(status.get("failure_count"), len(objs), status)
        for f in status.get("failures", []):
            self.assertTrue(f.get("message"), f)
        self.assertServing()

    def test_invalid_stix_patterns_are_failures(self):
        # STIX 2.1 section 4.7 / STIX Patterning: an indicator with pattern_type "stix" carries a
        # pattern in the STIX Patterning language; one that does not parse is invalid.
        objs = [dict(indicator(), pattern="[this is not a pattern"),
                dict(indicator(), pattern="ipv4-addr:value = '1.2.3.4'"),
                dict(indicator(), pattern="[ipv4-addr:value = '1.2.3.4'] AND")]
        r = self.post_raw(json.dumps(envelope(objs)).encode())
        self.assertEqual(r.status, 202, r.describe())
        status = r.json()
        self.assertEqual(status.get("success_count"), 0, status)
        self.assertEqual(status.get("failure_count"), len(objs), status)
        for f in status.get("failures", []):
            self.assertIn("pattern", f.get("message", ""), f)

    def test_non_utf8(self):
        obj = json.dumps(envelope([indicator()])).encode()
        for data in (obj.replace(b"e2e indicator", b"e2e \xff\xfe indicator"),
                     obj.replace(b"e2e indicator", b"e2e \xc3\x28 indicator"),
                     obj.replace(b"e2e indicator", b"e2e \xed\xa0\x80 indicator"),
                     b"\xef\xbb\xbf" + obj.replace(b"e2e indicator", b"\xc0\xaf")):
            r = self.post_raw(data)
            if r.status == 202:
                self.assertEqual(r.json().get("success_count"), 0, r.describe())
            else:
                self.assertTaxiiError(r, 400)
        self.assertServing()

    def test_deep_nesting(self):
        for depth in (1000, 100000):
            nested = "[" * depth + "]" * depth
            data = ('{"objects":[{"type":"indicator","x_deep":%s}]}' % nested).encode()
            r = self.post_raw(data)
            self.assertIn(r.status, (400, 413, 202), r.describe())
            if r.status == 202:
                self.assertEqual(r.json().get("success_count"), 0, r.describe())
            else:
                self.assertTaxiiError(r, r.status)
            nested = '{"a":' * depth + "1" + "}" * depth
            data = ('{"objects":[%s]}' % nested).encode()
            r = self.post_raw(data)
            self.assertIn(r.status, (400, 413, 202), r.describe())
        self.assertServing()

    def test_duplicate_keys_and_huge_strings(self):
        data = b'{"objects":[],"objects":[]}'
        r = self.post_raw(data)
        self.assertLess(r.status, 500, r.describe())
        big = indicator(description="x" * (2 * 1024 * 1024))
        r = self.post_raw(json.dumps(envelope([big])).encode())
        self.assertLess(r.status, 500, r.describe())
        self.assertServing()

    def test_many_tiny_objects(self):
        objs = [{"type": "x"} for _ in range(50000)]
        r = self.post_raw(json.dumps(envelope(objs)).encode())
        self.assertLess(r.status, 500, r.describe())
        if r.status == 202:
            self.assertEqual(r.json().get("success_count"), 0)
        self.assertServing()

    def test_content_length_beyond_max_content_length_is_413(self):
        r = self.get(API_ROOT, user="pub")
        max_len = r.json()["max_content_length"]
        # Announce one byte more than the maximum; a server must refuse from the header alone,
        # without waiting for (or buffering) the body.
        conn = self.hub.connection(timeout=30)
        try:
            conn.putrequest("POST", self.objects_path())
            conn.putheader("Authorization", self.auth("pub"))
            conn.putheader("Accept", TAXII)
            conn.putheader("Content-Type", TAXII)
            conn.putheader("Content-Length", str(max_len + 1))
            conn.endheaders()
            try:
                conn.send(b'{"objects":[' + b" " * 65536)
            except OSError:
                pass
            resp = conn.getresponse()
            body = resp.read()
            from hub import Response
            self.assertTaxiiError(Response(resp.status, resp.reason, resp.getheaders(), body), 413)
        finally:
            conn.close()
        self.assertServing()

    def test_body_beyond_max_content_length_is_413(self):
        r = self.get(API_ROOT, user="pub")
        max_len = r.json()["max_content_length"]
        if max_len > 16 * 1024 * 1024:
            self.skipTest("max_content_length %d is too large to send in a test" % max_len)
        data = json.dumps(envelope([indicator(description="x" * (max_len + 10))])).encode()
        r = self.post_raw(data)
        self.assertTaxiiError(r, 413)
        self.assertServing()


class SmallBodyLimitTest(HubTestCase):
    """max_content_length enforced on real bodies (Content-Length and chunked), with the API
    root's limit lowered to 1 MiB in the fixture so a test can send more than it."""

    LIMIT = 1024 * 1024

    @classmethod
    def prepare_hub(cls, hub):
        # Test fixture only: lower the API root's max_content_length in the hub's store (there is
        # no CLI for it), directly in the database on either backend. Fails loudly if the schema
        # changes.
        rows = hub.raw_sql("UPDATE api_roots SET max_content_length = ? WHERE name = 'api' "
                           "RETURNING name", cls.LIMIT)
        if len(rows) != 1:
            raise AssertionError("api_roots has no 'api' row (%s store)" % hub.backend)

    def test_api_root_reports_the_limit(self):
        r = self.get(API_ROOT, user="pub")
        self.assertEqual(r.json().get("max_content_length"), self.LIMIT, r.describe())

    def test_body_just_under_the_limit_is_accepted(self):
        obj = indicator(description="x")
        base = len(json.dumps(envelope([obj])).encode())
        obj["description"] = "x" * (self.LIMIT - base - 100)
        r = self.post(self.objects_path(), json.dumps(envelope([obj])).encode())
        self.assertEqual(r.status, 202, r.describe())

    def test_body_beyond_the_limit_is_413(self):
        obj = indicator(description="x" * (self.LIMIT + 10))
        r = self.post(self.objects_path(), json.dumps(envelope([obj])).encode())
        self.assertTaxiiError(r, 413)
        self.assertServing()

    def test_chunked_body_beyond_the_limit_is_413(self):
        conn = self.hub.connection(timeout=30)
        try:
            conn.putrequest("POST", self.objects_path())
            conn.putheader("Authorization", self.auth("pub"))
            conn.putheader("Accept", TAXII)
            conn.putheader("Content-Type", TAXII)
            conn.putheader("Transfer-Encoding", "chunked")
            conn.endheaders()
            chunk = b'{"objects":[' + b" " * (64 * 1024 - 12)
            try:
                for _ in range(self.LIMIT // len(chunk) + 4):
                    conn.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    chunk = b" " * (64 * 1024)
                conn.send(b"0\r\n\r\n")
            except OSError:
                pass  # the server answered and closed early
            resp = conn.getresponse()
            body = resp.read()
            from hub import Response
            self.assertTaxiiError(Response(resp.status, resp.reason, resp.getheaders(), body), 413)
        finally:
            conn.close()
        self.assertServing()


class BadHttpTest(HubTestCase):
    def test_garbage_request_lines(self):
        for data in (b"\x00\x01\x02\x03\r\n\r\n", b"GET\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n",
                     b"HELLO WORLD\r\n\r\n", b"GET /taxii2/ HTTP/1.1\r\nHost: x\r\nBad header\r\n\r\n",
                     b"POST /api/ HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
                     b"POST /api/ HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n"
                     b"\r\nhello",
                     b"POST /api/ HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                     b"zz\r\nxx\r\n0\r\n\r\n"):
            out = raw_exchange(self.hub.port, data, timeout=10)
            if out:
                self.assertRegex(out[:12], rb"^HTTP/1\.[01] [45]\d\d", out[:200])
        self.assertServing()

    def test_oversized_headers(self):
        data = (b"GET /taxii2/ HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (1024 * 1024) + b"\r\n\r\n")
        out = raw_exchange(self.hub.port, data, timeout=15)
        if out:
            self.assertRegex(out[:12], rb"^HTTP/1\.[01] (4\d\d)", out[:200])
        many = b"GET /taxii2/ HTTP/1.1\r\nHost: x\r\n" + b"X-A: b\r\n" * 20000 + b"\r\n"
        out = raw_exchange(self.hub.port, many, timeout=15)
        if out:
            self.assertRegex(out[:12], rb"^HTTP/1\.[01] (4\d\d)", out[:200])
        self.assertServing()

    def test_half_sent_request_and_abrupt_close(self):
        for _ in range(20):
            s = socket.create_connection(("127.0.0.1", self.hub.port), timeout=5)
            s.sendall(b"POST /api/collections/x/objects/ HTTP/1.1\r\nHost: x\r\n"
                      b"Content-Length: 100000\r\n\r\n{\"objects\":[")
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            s.close()  # RST
        self.assertServing()

    def test_many_idle_connections_do_not_block_service(self):
        socks = []
        try:
            for _ in range(50):
                socks.append(socket.create_connection(("127.0.0.1", self.hub.port), timeout=5))
            self.assertServing()
        finally:
            for s in socks:
                s.close()
        self.assertServing()


if __name__ == "__main__":
    unittest.main()
