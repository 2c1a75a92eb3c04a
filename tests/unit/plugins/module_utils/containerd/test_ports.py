# -*- coding: utf-8 -*-
# Copyright (c) ctrd.containerd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""-p parsing, port storage and `nerdctl port` output (nerdctl-behaviour.md §3.1, §5.7, §9)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import ipaddress
import json
import os
import stat
import sys

import pytest

from ansible_collections.ctrd.containerd.plugins.module_utils.containerd import ports
from ansible_collections.ctrd.containerd.plugins.module_utils.containerd.errors import UserError

CID = '0123456789abcdef' * 4
HEADER = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n'


def proc_addr(ip, port):
    """Encode like the kernel: each 32-bit group in host byte order, hex upper-case."""
    packed = ipaddress.ip_address(ip).packed
    groups = ''.join('%08X' % int.from_bytes(packed[i:i + 4], sys.byteorder) for i in range(0, len(packed), 4))
    return '%s:%04X' % (groups, port)


def write_procnet(directory, name, sockets):
    lines = [HEADER]
    for index, (ip, port, state) in enumerate(sockets):
        lines.append('%4d: %s %s %02X 00000000:00000000 00:00000000 00000000     0        0 1 1\n'
                     % (index, proc_addr(ip, port), proc_addr(ip, 0), state))
    (directory / name).write_text(''.join(lines))


@pytest.fixture
def procnet(tmp_path):
    """An empty fake /proc/net; tests add sockets with write_procnet."""
    for name in ('tcp', 'tcp6', 'udp', 'udp6'):
        write_procnet(tmp_path, name, [])
    ports.reset_allocator()
    yield tmp_path
    ports.reset_allocator()


def parse(spec, procnet, **kwargs):
    return ports.parse_publish(spec, procnet_dir=str(procnet), **kwargs)


def m(host, ctr, proto='tcp', ip='0.0.0.0'):
    return {'HostPort': host, 'ContainerPort': ctr, 'Protocol': proto, 'HostIP': ip}


@pytest.mark.parametrize('spec, expected', [
    ('8080:80', [m(8080, 80)]),
    ('127.0.0.1:8080:80', [m(8080, 80, ip='127.0.0.1')]),
    ('8080:80/UDP', [m(8080, 80, 'udp')]),
    ('8080:80/sctp', [m(8080, 80, 'sctp')]),
    ('[::1]:8080:80', [m(8080, 80, ip='::1')]),
    ('3000-3001:8080-8081/tcp', [m(3000, 8080), m(3001, 8081)]),
    ('10.0.0.1:3000-3001:80-81', [m(3000, 80, ip='10.0.0.1'), m(3001, 81, ip='10.0.0.1')]),
    (':8080:80', [m(8080, 80)]),  # empty host part, like Go's SplitHostPort
])
def test_parse_publish(procnet, spec, expected):
    assert parse(spec, procnet) == expected


@pytest.mark.parametrize('spec, message', [
    ('80/xyz', 'invalid protocol "xyz"'),
    ('80/tcp/udp', 'failed to parse "80/tcp/udp", unexpected slashes'),
    ('1.2.3.999:8080:80', 'invalid ip address: 1.2.3.999'),
    ('8080:', 'no port specified: 8080:'),
    ('8080:http', 'invalid containerPort: http'),
    ('8080:70000', 'invalid containerPort: 70000'),
    ('81-80', 'invalid containerPort: 81-80'),
    ('x:80', 'invalid hostPort: x'),
    ('::1:8080:80', 'invalid hostPort: ::1:8080'),  # IPv6 needs brackets
    ('::8080:80', 'invalid hostPort: ::8080'),
    ('3000-3002:80-81', 'invalid ranges specified for container and host Ports: 80-81 and 3000-3002'),
])
def test_parse_publish_errors(procnet, spec, message):
    with pytest.raises(UserError) as exc:
        parse(spec, procnet)
    assert str(exc.value) == message


def test_rootless_needs_host_port(procnet):
    with pytest.raises(UserError) as exc:
        parse('80', procnet, rootless=True)
    assert str(exc.value) == ('automatic port allocation is not implemented for rootless mode '
                              '(Hint: specify the port like "12345:80", not just "80")')


def test_host_port_in_use_by_socket(procnet):
    write_procnet(procnet, 'tcp', [('0.0.0.0', 8080, 0x0A)])
    with pytest.raises(UserError) as exc:
        parse('8080:80', procnet)
    assert str(exc.value) == 'bind for 0.0.0.0:8080 failed: port is already allocated'
    # the same port over udp is free; a socket on another address does not count for a specific ip
    assert parse('8080:80/udp', procnet) == [m(8080, 80, 'udp')]
    assert parse('127.0.0.1:8080:80', procnet) == [m(8080, 80, ip='127.0.0.1')]


def test_ipv6_wildcard_socket_blocks_every_ip(procnet):
    write_procnet(procnet, 'tcp6', [('::', 9090, 0x0A)])
    with pytest.raises(UserError) as exc:
        parse('127.0.0.1:9090:90', procnet)
    assert str(exc.value) == 'bind for 127.0.0.1:9090 failed: port is already allocated'


def test_time_wait_sockets_do_not_count(procnet):
    write_procnet(procnet, 'tcp', [('127.0.0.1', 8080, 6), ('127.0.0.1', 8081, 8)])
    assert parse('8080-8081:80-81', procnet) == [m(8080, 80), m(8081, 81)]


def test_other_containers_mappings_count(procnet):
    used = [m(8080, 80, ip='0.0.0.0')]
    with pytest.raises(UserError) as exc:
        parse('127.0.0.1:8080:80', procnet, used_mappings=used)
    assert str(exc.value) == 'bind for 127.0.0.1:8080 failed: port is already allocated'
    assert parse('127.0.0.1:8081:80', procnet, used_mappings=[m(8081, 80, ip='127.0.0.2')]) == [m(8081, 80, ip='127.0.0.1')]


def test_single_container_port_with_host_range_takes_first_free(procnet):
    write_procnet(procnet, 'tcp', [('0.0.0.0', 3000, 0x0A)])
    assert parse('3000-3002:80', procnet) == [m(3001, 80)]
    write_procnet(procnet, 'tcp', [('0.0.0.0', 3000, 0x0A), ('0.0.0.0', 3001, 0x0A)])
    with pytest.raises(UserError) as exc:
        parse('3000-3001:80', procnet)
    assert str(exc.value) == 'bind for 0.0.0.0 failed: all ports in range 3000-3001 are already allocated'


def test_automatic_allocation(procnet):
    write_procnet(procnet, 'tcp', [('0.0.0.0', 49153, 0x0A)])
    assert parse('80', procnet) == [m(49154, 80)]
    # the allocator moves on within one process, as nerdctl's does
    assert parse('80-81', procnet) == [m(49155, 80), m(49156, 81)]
    ports.reset_allocator()
    # for a given ip only sockets on that ip or on `::` count (nerdctl's filter): 0.0.0.0:49153 does not,
    # while another container's wildcard mapping does
    assert parse('127.0.0.1::80', procnet) == [m(49153, 80, ip='127.0.0.1')]
    ports.reset_allocator()
    assert parse('127.0.0.1::80', procnet, used_mappings=[m(49153, 80)]) == [m(49154, 80, ip='127.0.0.1')]


def test_parse_publish_list_keeps_ports_distinct(procnet):
    result = ports.parse_publish_list(['80', '81', '8080:82'], procnet_dir=str(procnet))
    assert result == [m(49153, 80), m(49154, 81), m(8080, 82)]
    with pytest.raises(UserError):
        ports.parse_publish_list(['8080:80', '8080:81'], procnet_dir=str(procnet))


def test_procnet_address_decoding():
    ip, port = ports.parse_procnet_address(proc_addr('127.0.0.1', 80))
    assert (str(ip), port) == ('127.0.0.1', 80)
    ip, port = ports.parse_procnet_address(proc_addr('fe80::70a6:57ff:fe71:c75d', 80))
    assert (str(ip), port) == ('fe80::70a6:57ff:fe71:c75d', 80)


def test_write_network_config(tmp_path):
    state = tmp_path / 'state'
    ports.write_network_config(str(state), [m(8080, 80)])
    path = state / 'network-config.json'
    assert path.read_text() == '{"portMappings":[{"HostPort":8080,"ContainerPort":80,"Protocol":"tcp","HostIP":"0.0.0.0"}]}'
    assert stat.S_IMODE(os.stat(str(path)).st_mode) == 0o600
    ports.write_network_config(str(state), [])
    assert path.read_text() == '{}'


def test_load_prefers_file(tmp_path):
    state = tmp_path / 'state'
    ports.write_network_config(str(state), [m(8080, 80)])
    warnings = []
    labels = {'nerdctl/ports': json.dumps([m(1, 2)])}
    assert ports.load_port_mappings(str(state), labels, warnings.append, cid=CID) == [m(8080, 80)]
    assert warnings == []


def test_load_falls_back_to_legacy_label_with_warning(tmp_path):
    state = tmp_path / 'state'
    warnings = []
    labels = {'nerdctl/name': 'web', 'nerdctl/ports': json.dumps([m(8080, 80)])}
    assert ports.load_port_mappings(str(state), labels, warnings.append, cid=CID) == [m(8080, 80)]
    assert os.path.isdir(str(state))  # side effect nerdctl has too
    assert warnings == ['container web (0123456789ab) is using legacy port mapping configuration. To ensure compatibility '
                        'with the new port mapping logic, please recreate this container. For more details, see: '
                        'https://github.com/containerd/nerdctl/pull/4290']
    ports.write_network_config(str(state), [])  # `{}` has no mappings: the label still applies
    assert ports.load_port_mappings(str(state), labels, warnings.append, cid=CID) == [m(8080, 80)]


def test_load_nothing(tmp_path):
    assert ports.load_port_mappings(str(tmp_path / 's'), {}, None, cid=CID) == []
    assert ports.load_port_mappings(str(tmp_path / 's'), {'nerdctl/ports': ''}, None, cid=CID) == []


def test_load_bad_label(tmp_path):
    with pytest.raises(UserError) as exc:
        ports.load_port_mappings(str(tmp_path / 's'), {'nerdctl/ports': '[{'}, None, cid=CID)
    assert str(exc.value).startswith('failed to parse label "nerdctl/ports"="[{": ')


def test_load_bad_file(tmp_path):
    state = tmp_path / 's'
    state.mkdir()
    (state / 'network-config.json').write_text('{"portMappings":[{"HostPort":"x"}]}')
    with pytest.raises(UserError) as exc:
        ports.load_port_mappings(str(state), {}, None, cid=CID)
    assert str(exc.value).startswith('network-store error\nnetwork-config.json: ')


MAPPINGS = [m(8080, 80), m(8081, 80, 'udp'), m(9000, 90, 'TCP', '::1')]


def test_port_lines_all_in_stored_order():
    assert ports.port_lines(MAPPINGS, cid=CID) == ['80/tcp -> 0.0.0.0:8080', '80/udp -> 0.0.0.0:8081', '90/TCP -> ::1:9000']
    assert ports.port_lines([], cid=CID) == []


def test_port_lines_one():
    assert ports.port_lines(MAPPINGS, 80, 'tcp', CID) == ['0.0.0.0:8080']
    assert ports.port_lines(MAPPINGS, 80, 'udp', CID) == ['0.0.0.0:8081']
    assert ports.port_lines(MAPPINGS, 90, 'tcp', CID) == ['::1:9000']  # IPv6 without brackets


def test_port_lines_no_match():
    with pytest.raises(UserError) as exc:
        ports.port_lines(MAPPINGS, 81, 'tcp', CID)
    assert str(exc.value) == 'no public port 81/tcp published for "%s"' % CID


@pytest.mark.parametrize('arg, expected', [('80', (80, 'tcp')), ('80/UDP', (80, 'udp')), ('+80/tcp', (80, 'tcp'))])
def test_parse_port_arg(arg, expected):
    assert ports.parse_port_arg(arg) == expected


@pytest.mark.parametrize('arg, message', [
    ('http', 'strconv.Atoi: parsing "http": invalid syntax'),
    ('0', 'unexpected port 0'),
    ('-5/tcp', 'unexpected port -5'),
    ('80/tcp/x', 'failed to parse "80/tcp/x"'),
    ('x/tcp/y', 'strconv.Atoi: parsing "x": invalid syntax'),
])
def test_parse_port_arg_errors(arg, message):
    with pytest.raises(UserError) as exc:
        ports.parse_port_arg(arg)
    assert str(exc.value) == message
