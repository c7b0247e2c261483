"""An independent check of Liaison's provenance signatures, in Python 3 standard library only.

crypto/signature.h: every object a hub sends carries
    "x_liaison_signature": {"hub": "identity--...", "key": "<Ed25519 public key, base64>",
                            "alg": "ed25519", "sig": "<base64 signature>"}
over the RFC 8785 canonical form of the object whose x_liaison_signature holds the block without
its "sig" member (so the signer's identity and key are covered too). This module re-implements
both halves from the specifications (RFC 8032 section 5.1 for Ed25519, RFC 8785 for the JSON
canonicalisation) so the end-to-end tests check the hub's signatures with code that shares nothing
with it, and can forge signatures with keys of their own.

Slow (pure Python big integers, a few milliseconds per operation): for tests, not for bulk use.
"""

import base64
import hashlib
import json
import math

# ------------------------------------------------------------------------------ Ed25519 (RFC 8032)

_P = 2 ** 255 - 19
_Q = 2 ** 252 + 27742317777372353535851937790883648493  # the group order L


def _inv(x):
    return pow(x, _P - 2, _P)


_D = -121665 * _inv(121666) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)


def _add(p1, p2):
    # RFC 8032 section 5.1.4, extended homogeneous coordinates (X, Y, Z, T).
    a = (p1[1] - p1[0]) * (p2[1] - p2[0]) % _P
    b = (p1[1] + p1[0]) * (p2[1] + p2[0]) % _P
    c = 2 * p1[3] * p2[3] * _D % _P
    d = 2 * p1[2] * p2[2] % _P
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f % _P, g * h % _P, f * g % _P, e * h % _P)


def _mul(s, point):
    result = (0, 1, 1, 0)
    while s > 0:
        if s & 1:
            result = _add(result, point)
        point = _add(point, point)
        s >>= 1
    return result


def _equal(p1, p2):
    return ((p1[0] * p2[2] - p2[0] * p1[2]) % _P == 0
            and (p1[1] * p2[2] - p2[1] * p1[2]) % _P == 0)


def _recover_x(y, sign):
    if y >= _P:
        return None
    x2 = (y * y - 1) * _inv(_D * y * y + 1) % _P
    if x2 == 0:
        return None if sign else 0
    x = pow(x2, (_P + 3) // 8, _P)
    if (x * x - x2) % _P != 0:
        x = x * _SQRT_M1 % _P
    if (x * x - x2) % _P != 0:
        return None
    if (x & 1) != sign:
        x = _P - x
    return x


_GY = 4 * _inv(5) % _P
_GX = _recover_x(_GY, 0)
_G = (_GX, _GY, 1, _GX * _GY % _P)


def _decompress(data):
    if len(data) != 32:
        return None
    y = int.from_bytes(data, "little")
    sign = y >> 255
    y &= (1 << 255) - 1
    x = _recover_x(y, sign)
    if x is None:
        return None
    return (x, y, 1, x * y % _P)


def _compress(point):
    zinv = _inv(point[2])
    x = point[0] * zinv % _P
    y = point[1] * zinv % _P
    return (y | ((x & 1) << 255)).to_bytes(32, "little")


def _h_mod_q(data):
    return int.from_bytes(hashlib.sha512(data).digest(), "little") % _Q


def _expand(secret):
    if len(secret) != 32:
        raise ValueError("Ed25519 secret keys are 32 bytes")
    h = hashlib.sha512(secret).digest()
    a = int.from_bytes(h[:32], "little")
    a &= (1 << 254) - 8
    a |= 1 << 254
    return a, h[32:]


def public_key(secret):
    a, _ = _expand(secret)
    return _compress(_mul(a, _G))


def sign(secret, message):
    a, prefix = _expand(secret)
    pub = _compress(_mul(a, _G))
    r = _h_mod_q(prefix + message)
    rs = _compress(_mul(r, _G))
    h = _h_mod_q(rs + pub + message)
    s = (r + h * a) % _Q
    return rs + s.to_bytes(32, "little")


def verify(public, message, signature):
    if len(public) != 32 or len(signature) != 64:
        return False
    a = _decompress(public)
    r = _decompress(signature[:32])
    if a is None or r is None:
        return False
    s = int.from_bytes(signature[32:], "little")
    if s >= _Q:
        return False
    h = _h_mod_q(signature[:32] + public + message)
    return _equal(_mul(s, _G), _add(r, _mul(h, a)))


# ------------------------------------------------------------------------------ RFC 8785

def _number(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if not math.isfinite(value):
        raise ValueError("RFC 8785: no NaN or infinity")
    if value == int(value) and abs(value) < 1e21:
        return str(int(value))
    # ECMAScript Number.prototype.toString; Python's repr is the same shortest round-trip digits.
    text = repr(value)
    if "e" in text:
        mantissa, exp = text.split("e")
        exp = int(exp)
        text = "%se%s%d" % (mantissa, "+" if exp > 0 else "-", abs(exp))
    return text


def canonical(value):
    """RFC 8785 canonical JSON text of a parsed JSON value."""
    if value is None:
        return "null"
    if isinstance(value, (bool, int, float)):
        return _number(value)
    if isinstance(value, str):
        # Same escapes as ECMAScript JSON.stringify (lowercase \\u00xx for other controls).
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ",".join(canonical(v) for v in value) + "]"
    if isinstance(value, dict):
        # Section 3.2.3: members sorted by the UTF-16 code units of their names.
        keys = sorted(value, key=lambda k: k.encode("utf-16-be"))
        return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + canonical(value[k])
                              for k in keys) + "}"
    raise TypeError("not a JSON value: %r" % (value,))


# ------------------------------------------------------------------------------ Liaison signatures

SIGNATURE_PROPERTY = "x_liaison_signature"


def signed_message(obj, block):
    """The bytes a hub signs: the canonical form of the object with the signature block minus
    its "sig" member."""
    message = {k: v for k, v in obj.items() if k != SIGNATURE_PROPERTY}
    message[SIGNATURE_PROPERTY] = {k: v for k, v in block.items() if k != "sig"}
    return canonical(message).encode("utf-8")


def check_signature(obj, trusted_key_b64=None):
    """Returns None when obj's x_liaison_signature verifies (and, when given, was made with
    trusted_key_b64), else a reason string."""
    block = obj.get(SIGNATURE_PROPERTY)
    if not isinstance(block, dict):
        return "no %s" % SIGNATURE_PROPERTY
    if block.get("alg", "ed25519") != "ed25519":
        return "alg %r" % block.get("alg")
    try:
        key = base64.b64decode(block["key"], validate=True)
        sig = base64.b64decode(block["sig"], validate=True)
    except (KeyError, ValueError) as e:
        return "malformed signature block: %s" % e
    if trusted_key_b64 is not None and base64.b64decode(trusted_key_b64) != key:
        return "signed with key %s, not the trusted %s" % (block["key"], trusted_key_b64)
    if not verify(key, signed_message(obj, block), sig):
        return "signature does not verify"
    return None


def sign_object(obj, hub_id, secret):
    """A copy of obj signed like a hub would with the given 32-byte Ed25519 secret."""
    out = {k: v for k, v in obj.items() if k != SIGNATURE_PROPERTY}
    block = {
        "hub": hub_id,
        "key": base64.b64encode(public_key(secret)).decode("ascii"),
        "alg": "ed25519",
    }
    block["sig"] = base64.b64encode(sign(secret, signed_message(out, block))).decode("ascii")
    out[SIGNATURE_PROPERTY] = block
    return out
