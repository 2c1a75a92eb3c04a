# -*- coding: utf-8 -*-
# Copyright (c) ctrd.containerd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Go primitives that nerdctl's texts embed: %q quoting, Atoi, ParseDuration, SplitHostPort, ParseIP."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.ctrd.containerd.plugins.module_utils.containerd import goutil
from ansible_collections.ctrd.containerd.plugins.module_utils.containerd.errors import UserError


def test_go_quote():
    assert goutil.go_quote('abc') == '"abc"'
    assert goutil.go_quote('a"b\\c\n\t') == '"a\\"b\\\\c\\n\\t"'
    assert goutil.go_quote('\x01') == '"\\x01"'
    assert goutil.go_quote(u'h\u00e9') == u'"h\u00e9"'


@pytest.mark.parametrize('text, seconds', [
    ('10s', 10.0), ('0s', 0.0), ('-1s', -1.0), ('1.5s', 1.5), ('1ms', 0.001), ('1m30s', 90.0), ('0', 0.0), ('.5s', 0.5),
])
def test_parse_duration(text, seconds):
    assert goutil.parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize('text, message', [
    ('s', 'time: invalid duration "s"'),
    ('abcs', 'time: invalid duration "abcs"'),
    ('', 'time: invalid duration ""'),
    ('1hs', 'time: unknown unit "hs" in duration "1hs"'),
    ('10', 'time: missing unit in duration "10"'),
    ('.s', 'time: invalid duration ".s"'),
])
def test_parse_duration_errors(text, message):
    with pytest.raises(UserError) as exc:
        goutil.parse_duration(text)
    assert str(exc.value) == message


def test_atoi():
    assert goutil.atoi('42') == 42
    assert goutil.atoi('+7') == 7
    assert goutil.atoi('-3') == -3
    for bad in ('', 'x', '1.0', ' 1', '1_0'):
        with pytest.raises(UserError) as exc:
            goutil.atoi(bad)
        assert str(exc.value) == 'strconv.Atoi: parsing "%s": invalid syntax' % bad
    with pytest.raises(UserError) as exc:
        goutil.atoi('99999999999999999999')
    assert str(exc.value) == 'strconv.Atoi: parsing "99999999999999999999": value out of range'


@pytest.mark.parametrize('text, expected', [
    ('127.0.0.1:8080', ('127.0.0.1', '8080')),
    ('[::1]:8080', ('::1', '8080')),
    ('127.0.0.1:', ('127.0.0.1', '')),
    (':80', ('', '80')),
])
def test_split_host_port(text, expected):
    assert goutil.split_host_port(text) == expected


@pytest.mark.parametrize('text', ['8080', '::1:8080', '[::1]', '[::1', 'a[b:1', '[::1]x:1'])
def test_split_host_port_errors(text):
    with pytest.raises(ValueError):
        goutil.split_host_port(text)


def test_parse_ip():
    assert goutil.parse_ip('10.0.0.1') is not None
    assert goutil.parse_ip('::1') is not None
    for bad in ('', 'fe80::1%eth0', '1.2.3', '01.2.3.4', '[::1]', 'host'):
        assert goutil.parse_ip(bad) is None
    assert goutil.ip_string(goutil.parse_ip('::ffff:127.0.0.1')) == '127.0.0.1'


def test_go_json_escapes_html_and_keeps_order():
    assert goutil.go_json({'b': '<&>', 'a': 1}) == '{"b":"\\u003c\\u0026\\u003e","a":1}'
