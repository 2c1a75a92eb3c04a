# -*- coding: utf-8 -*-
# Copyright (c) ctrd.containerd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Go standard-library parsing and formatting rules that nerdctl's error texts and formats depend on.

nerdctl's messages embed Go's `%q` quoting, strconv and time.ParseDuration errors, and net.ParseIP /
net.SplitHostPort decisions.  Reproducing those few primitives here keeps every other helper's output
byte-identical to nerdctl's without each of them re-deriving Go's corner cases.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import ipaddress
import json
import re

from .errors import UserError

_GO_ESCAPES = {'\a': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v',
               '"': '\\"', '\\': '\\\\'}

TRUE_WORDS = ('1', 't', 'T', 'TRUE', 'true', 'True')
FALSE_WORDS = ('0', 'f', 'F', 'FALSE', 'false', 'False')

_INT_RE = re.compile(r'^[+-]?[0-9]+$')
_UINT_RE = re.compile(r'^[0-9]+$')


def go_quote(text):
    """Go's strconv.Quote (what `%q` prints for a string)."""
    out = ['"']
    for ch in text:
        if ch in _GO_ESCAPES:
            out.append(_GO_ESCAPES[ch])
        elif ch.isprintable():
            out.append(ch)
        elif ord(ch) < 0x80:
            out.append('\\x%02x' % ord(ch))
        elif ord(ch) < 0x10000:
            out.append('\\u%04x' % ord(ch))
        else:
            out.append('\\U%08x' % ord(ch))
    out.append('"')
    return ''.join(out)


def go_list(items):
    """Go's `%v`/`%+v` of a []string: `[a b c]`."""
    return '[' + ' '.join(items) + ']'


def parse_bool(text):
    """strconv.ParseBool: the accepted spellings only; anything else is Go's invalid-syntax error."""
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise UserError('strconv.ParseBool: parsing %s: invalid syntax' % go_quote(text))


def atoi(text):
    """strconv.Atoi on a 64-bit platform; raises UserError with Go's text."""
    if not _INT_RE.match(text):
        raise UserError('strconv.Atoi: parsing %s: invalid syntax' % go_quote(text))
    value = int(text)
    if value >= 2 ** 63 or value < -2 ** 63:
        raise UserError('strconv.Atoi: parsing %s: value out of range' % go_quote(text))
    return value


def parse_uint(text, bits=64):
    """strconv.ParseUint(text, 10, bits); raises ValueError (callers wrap it in their own message)."""
    if not _UINT_RE.match(text):
        raise ValueError('strconv.ParseUint: parsing %s: invalid syntax' % go_quote(text))
    value = int(text)
    if value >= 2 ** bits:
        raise ValueError('strconv.ParseUint: parsing %s: value out of range' % go_quote(text))
    return value


def parse_ip(text):
    """net.ParseIP: an ipaddress object, or None where Go returns nil (zones, empty, leading zeros...)."""
    if not text or '%' in text:
        return None
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def ip_string(ip):
    """net.IP.String(): IPv4-mapped IPv6 addresses print in dotted IPv4 form, as Go does."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ip)


def split_host_port(hostport):
    """net.SplitHostPort: (host, port); ValueError carrying Go's reason when Go would fail."""
    i = hostport.rfind(':')
    if i < 0:
        raise ValueError('missing port in address')
    j = k = 0
    if hostport.startswith('['):
        end = hostport.find(']')
        if end < 0:
            raise ValueError("missing ']' in address")
        if end + 1 == len(hostport):
            raise ValueError('missing port in address')
        if end + 1 != i:
            if hostport[end + 1] == ':':
                raise ValueError('too many colons in address')
            raise ValueError('missing port in address')
        host = hostport[1:end]
        j, k = 1, end + 1
    else:
        host = hostport[:i]
        if ':' in host:
            raise ValueError('too many colons in address')
    if '[' in hostport[j:]:
        raise ValueError("unexpected '[' in address")
    if ']' in hostport[k:]:
        raise ValueError("unexpected ']' in address")
    return host, hostport[i + 1:]


_UNITS = {'ns': 1e-9, 'us': 1e-6, u'\u00b5s': 1e-6, u'\u03bcs': 1e-6, 'ms': 1e-3, 's': 1.0, 'm': 60.0, 'h': 3600.0}


def parse_duration(text):
    """time.ParseDuration, in seconds (float); UserError with Go's texts on bad input."""
    orig = text
    invalid = UserError('time: invalid duration %s' % go_quote(orig))
    sign = 1.0
    if text[:1] in ('-', '+'):
        sign = -1.0 if text[0] == '-' else 1.0
        text = text[1:]
    if text == '0':
        return 0.0
    if text == '':
        raise invalid
    total = 0.0
    while text:
        m = re.match(r'^([0-9]*)(\.([0-9]*))?', text)
        whole, frac = m.group(1), m.group(3)
        if not whole and not frac:
            raise invalid
        number = float((whole or '0') + '.' + (frac or '0'))
        text = text[m.end():]
        u = re.match(r'^[^0-9.]*', text).group(0)
        if not u:
            raise UserError('time: missing unit in duration %s' % go_quote(orig))
        if u not in _UNITS:
            raise UserError('time: unknown unit %s in duration %s' % (go_quote(u), go_quote(orig)))
        total += number * _UNITS[u]
        text = text[len(u):]
    return sign * total


_HTML_ESCAPES = (('<', '\\u003c'), ('>', '\\u003e'), ('&', '\\u0026'), (u'\u2028', '\\u2028'), (u'\u2029', '\\u2029'))


def go_json(value, indent=None):
    """encoding/json's Marshal (compact) or MarshalIndent output for plain values, HTML escaping included.

    Dict key order is kept (Go structs keep field order; pass maps pre-sorted, as Go sorts them).
    """
    if indent is None:
        text = json.dumps(value, separators=(',', ':'), ensure_ascii=False)
    else:
        text = json.dumps(value, indent=indent, ensure_ascii=False)
    for raw, escaped in _HTML_ESCAPES:
        text = text.replace(raw, escaped)
    return text
