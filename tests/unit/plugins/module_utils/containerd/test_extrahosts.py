# -*- coding: utf-8 -*-
# Copyright (c) ctrd.containerd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ParseExtraHosts (nerdctl-behaviour.md §3.14, §13.14) and the host-gateway default."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import ipaddress

import pytest

from ansible_collections.ctrd.containerd.plugins.module_utils.containerd import extrahosts as E
from ansible_collections.ctrd.containerd.plugins.module_utils.containerd.errors import UserError


def test_reference_examples():
    entries = ['localhost:127.0.0.1', 'localhost:[::1]']
    assert E.parse_extra_hosts(entries, '', ':') == entries
    assert E.parse_extra_hosts(entries, '', '=') == ['localhost=127.0.0.1', 'localhost=[::1]']
    assert E.parse_extra_hosts(['localhost:host-gateway'], '10.10.0.1', ':') == ['localhost:10.10.0.1']


def test_empty_and_dedupe():
    assert E.parse_extra_hosts([], '', ':') == []
    assert E.parse_extra_hosts(None, '', ':') == []
    assert E.parse_extra_hosts(['b:1.1.1.1', 'a:2.2.2.2', 'b:1.1.1.1'], '', ':') == ['b:1.1.1.1', 'a:2.2.2.2']


def test_quirks():
    # passes Docker's validator (split at '='), then nerdctl's ':' split produces garbage
    assert E.parse_extra_hosts(['name=::1'], '', ':') == ['name=::1']  # host "name=", ip ":1"
    assert E.parse_extra_hosts(['name=::1'], '', '=') == ['name==:1']
    assert E.parse_extra_hosts(['h:[::1]'], '', ':') == ['h:[::1]']  # brackets kept
    assert E.parse_extra_hosts(['h:fe80::1'], '', ':') == ['h:fe80::1']


@pytest.mark.parametrize('entries, gateway, message', [
    (['localhost'], '', 'bad format for add-host: "localhost"'),
    ([':1.2.3.4'], '', 'bad format for add-host: ":1.2.3.4"'),
    (['a:b=1.2.3.4'], '', 'bad format for add-host: "a:b=1.2.3.4"'),
    (['h:999.1.1.1'], '', 'invalid IP address in add-host: "999.1.1.1"'),
    (['h:[nope]'], '', 'invalid IP address in add-host: "nope"'),
    (['h:'], '', 'invalid IP address in add-host: ""'),
    (['name=1.2.3.4'], '', 'invalid host-to-IP map name=1.2.3.4'),
    (['h:host-gateway'], '', 'unable to derive the IP value for host-gateway'),
    (['ok:1.1.1.1', 'bad'], '', 'bad format for add-host: "bad"'),
])
def test_errors(entries, gateway, message):
    with pytest.raises(UserError) as exc:
        E.parse_extra_hosts(entries, gateway, ':')
    assert str(exc.value) == message


def test_extra_hosts_map_last_wins():
    assert E.extra_hosts_map(['a:1.1.1.1', 'b:[::1]', 'a:2.2.2.2']) == {'a': '2.2.2.2', 'b': '[::1]'}


def local_ipv4_addresses():
    """The host's own IPv4 addresses, from the kernel's routing trie (the `/32 host LOCAL` leaves)."""
    found = set()
    last = None
    with open('/proc/net/fib_trie') as handle:
        for line in handle:
            text = line.strip()
            if text.startswith('|--'):
                last = text[3:].strip()
            elif text == '/32 host LOCAL' and last:
                found.add(last)
    return found


def test_default_host_gateway_ip_is_one_of_our_non_loopback_ipv4_addresses():
    value = E.default_host_gateway_ip()
    others = set(a for a in local_ipv4_addresses() if not ipaddress.ip_address(a).is_loopback)
    if others:
        assert value in others
    else:
        assert value == ''
