# -*- coding: utf-8 -*-
# Copyright (c) ctrd.containerd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Published ports the nerdctl way: `-p` parsing with host port allocation, storage and `nerdctl port` output.

Mappings are go-cni PortMapping dicts {HostPort, ContainerPort, Protocol, HostIP}, the JSON shape nerdctl
stores in network-config.json (and, before v2.1.3, in the nerdctl/ports label), so they round-trip with
containers that nerdctl created.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import ipaddress
import os
import sys

from . import labels as L
from .datastore import atomic_write, read_file, store_lock
from .errors import UserError
from .goutil import atoi, go_json, go_quote, ip_string, parse_ip, parse_uint, split_host_port
from .schemas import load_json

NETWORK_CONFIG = 'network-config.json'
PROTOCOLS = ('tcp', 'udp', 'sctp')

# Docker-compatible automatic allocation range.  nerdctl keeps the next start in a process-wide
# variable, so several -p in one create never get the same port; a module run is one such process.
ALLOCATE_START = 49153
ALLOCATE_END = 60999
_ALLOC = {'next': ALLOCATE_START}

_TCP_TIME_WAIT = 6
_TCP_CLOSE_WAIT = 8
_LEGACY_WARNING = ('container %s (%s) is using legacy port mapping configuration. To ensure compatibility with the new '
                   'port mapping logic, please recreate this container. For more details, see: '
                   'https://github.com/containerd/nerdctl/pull/4290')


def reset_allocator():
    """Start automatic allocation from the beginning of the range again (tests, long-lived processes)."""
    _ALLOC['next'] = ALLOCATE_START


def mapping(host_port, container_port, protocol='tcp', host_ip='0.0.0.0'):
    """One go-cni PortMapping dict, keys in Go's field order."""
    return {'HostPort': int(host_port), 'ContainerPort': int(container_port), 'Protocol': protocol, 'HostIP': host_ip}


def _port_range(text):
    """docker/go-connections nat.ParsePortRange: (start, end); ValueError on anything else."""
    if text == '':
        raise ValueError('empty string specified for ports')
    if '-' not in text:
        port = parse_uint(text, 16)
        return port, port
    parts = text.split('-')
    start, end = parse_uint(parts[0], 16), parse_uint(parts[1], 16)
    if end < start:
        raise ValueError('invalid range specified for port: ' + text)
    return start, end


def _split_parts(raw):
    """(ip, hostPort, containerPort): split at the last ':', the rest host:port style (IPv6 in brackets)."""
    last = raw.rfind(':')
    container_port = raw[last + 1:]
    if last == -1:
        return '', '', container_port
    host_addr_port = raw[:last]
    try:
        addr, port = split_host_port(host_addr_port)
    except ValueError:
        return '', host_addr_port, container_port
    return addr, port, container_port


def parse_procnet_address(text):
    """`0100007F:0050` -> (ip object, port); the kernel writes each 32-bit group in host byte order."""
    addr, port = text.split(':', 1)
    if len(addr) not in (8, 32):
        raise ValueError('unparsable address %s' % go_quote(text))
    raw = b''
    for i in range(0, len(addr), 8):
        raw += int(addr[i:i + 8], 16).to_bytes(4, sys.byteorder)
    ip = ipaddress.IPv4Address(raw) if len(raw) == 4 else ipaddress.IPv6Address(raw)
    return ip, int(port, 16)


def read_procnet(name, procnet_dir='/proc/net'):
    """Entries of /proc/net/<name> as (local ip string, local port, state) tuples."""
    with open(os.path.join(procnet_dir, name), encoding='ascii', errors='replace') as handle:
        lines = handle.read().splitlines()[1:]
    entries = []
    for line in lines:
        fields = line.split()
        if len(fields) < 4:
            continue
        try:
            ip, port = parse_procnet_address(fields[1])
            state = int(fields[3], 16)
        except ValueError:
            continue
        entries.append((ip_string(ip), port, state))
    return entries


def used_ports(ip, protocol, used_mappings=None, procnet_dir='/proc/net'):
    """Host ports taken for (ip, protocol): sockets in /proc/net plus other containers' mappings.

    nerdctl reads the iptables DNAT rules for the second part; we are handed the mappings of the other
    containers instead.  Like nerdctl, a socket counts if it is bound to `ip` or `::` (any socket when no
    ip is given), TIME_WAIT/CLOSE_WAIT tcp sockets do not count, and a mapping counts whatever its
    protocol when either side is a wildcard address or both are the same address.
    """
    entries = []
    try:
        if protocol in ('tcp', 'udp'):
            entries.extend(read_procnet(protocol, procnet_dir))
            try:
                entries.extend(read_procnet(protocol + '6', procnet_dir))
            except FileNotFoundError:
                pass
    except OSError as exc:
        raise UserError('open %s: %s' % (exc.filename, os.strerror(exc.errno).lower()))
    if ip:
        entries = [e for e in entries if e[0] in ('::', ip)]
    used = set()
    for _local_ip, port, state in entries:
        if protocol == 'tcp' and state in (_TCP_TIME_WAIT, _TCP_CLOSE_WAIT):
            continue
        used.add(port)
    requested = parse_ip(ip)
    requested_wild = ip == '' or (requested is not None and requested.is_unspecified)
    for item in used_mappings or ():
        rule_ip_text = item.get('HostIP') or ''
        rule_ip = parse_ip(rule_ip_text)
        rule_wild = rule_ip_text == '' or (rule_ip is not None and rule_ip.is_unspecified)
        if requested_wild or rule_wild or (requested is not None and rule_ip is not None and requested == rule_ip):
            used.add(int(item.get('HostPort', 0)))
    return used


def _allocate(count, used):
    """First run of `count` free ports from the allocator's position, as nerdctl's portAllocate walks it."""
    start = _ALLOC['next']
    if count > ALLOCATE_END - ALLOCATE_START + 1:
        raise UserError('can not allocate %d ports' % count)
    while start < ALLOCATE_END:
        if not any(p in used for p in range(start, start + count)):
            _ALLOC['next'] = start + count
            return start, start + count - 1
        start += count
    raise UserError('there is not enough %d free ports' % count)


def parse_publish(spec, rootless=False, used_mappings=None, procnet_dir='/proc/net'):
    """nerdctl's `-p [ip:][hostPort:]containerPort[/proto]` -> list of PortMapping dicts (ranges expanded).

    `used_mappings`: the published mappings of the other containers (nerdctl sees them as iptables rules).
    """
    proto = 'tcp'
    by_slash = spec.split('/')
    if len(by_slash) == 2:
        proto = by_slash[1].lower()
        if proto not in PROTOCOLS:
            raise UserError('invalid protocol %s' % go_quote(by_slash[1]))
    elif len(by_slash) > 2:
        raise UserError('failed to parse %s, unexpected slashes' % go_quote(spec))
    ip, host_port, container_port = _split_parts(by_slash[0])
    if ip != '' and parse_ip(ip) is None:
        raise UserError('invalid ip address: %s' % ip)
    host_ip = ip or '0.0.0.0'
    if container_port == '':
        raise UserError('no port specified: %s' % by_slash[0])
    try:
        start, end = _port_range(container_port)
    except ValueError:
        raise UserError('invalid containerPort: %s' % container_port)
    if host_port == '':
        if rootless:
            raise UserError('automatic port allocation is not implemented for rootless mode (Hint: specify the port like '
                            '"12345:%s", not just "%s")' % (container_port, container_port))
        host_start, host_end = _allocate(end - start + 1, used_ports(ip, proto, used_mappings, procnet_dir))
    else:
        try:
            host_start, host_end = _port_range(host_port)
        except ValueError:
            raise UserError('invalid hostPort: %s' % host_port)
        used = used_ports(ip, proto, used_mappings, procnet_dir)
        if start == end and host_start != host_end:
            free = [p for p in range(host_start, host_end + 1) if p not in used]
            if not free:
                raise UserError('bind for %s failed: all ports in range %s are already allocated' % (host_ip, host_port))
            host_start = host_end = free[0]
        else:
            for port in range(host_start, host_end + 1):
                if port in used:
                    raise UserError('bind for %s:%d failed: port is already allocated' % (host_ip, port))
        if end - start != host_end - host_start:
            raise UserError('invalid ranges specified for container and host Ports: %s and %s' % (container_port, host_port))
    return [mapping(host_start + i, start + i, proto, host_ip) for i in range(end - start + 1)]


def parse_publish_list(specs, rootless=False, used_mappings=None, procnet_dir='/proc/net'):
    """All `-p` values of one create, in order; earlier results count as used for the later ones."""
    result = []
    for spec in specs or ():
        result.extend(parse_publish(spec, rootless, list(used_mappings or ()) + result, procnet_dir))
    return result


def encode_mappings(mappings):
    """Compact JSON like Go's json.Marshal of []PortMapping."""
    return go_json([mapping(m['HostPort'], m['ContainerPort'], m['Protocol'], m['HostIP']) for m in mappings])


def network_config_text(mappings):
    """network-config.json content: {"portMappings":[...]} or {} (omitempty)."""
    if not mappings:
        return '{}'
    return '{"portMappings":%s}' % encode_mappings(mappings)


def write_network_config(state_dir, mappings):
    """Write <state dir>/network-config.json (0600, atomically) under the flock on the state dir."""
    with store_lock(state_dir):
        atomic_write(os.path.join(state_dir, NETWORK_CONFIG), network_config_text(mappings), 0o600)


def _as_mappings(items):
    return [mapping(m.get('HostPort', 0), m.get('ContainerPort', 0), m.get('Protocol', ''), m.get('HostIP', ''))
            for m in items or ()]


def load_port_mappings(state_dir, labels, warn, name=None, cid=''):
    """LoadPortMappings: network-config.json first, then the legacy nerdctl/ports label (with nerdctl's warning).

    Creates the state dir like nerdctl does.  A broken file or label fails as nerdctl fails
    (UserError), since a wrong port list would silently unpublish ports.
    """
    labels = labels or {}
    with store_lock(state_dir):
        text = read_file(os.path.join(state_dir, NETWORK_CONFIG))
    if text is not None:
        try:
            conf = load_json(NETWORK_CONFIG, text)
        except UserError as exc:
            raise UserError('network-store error\n%s' % exc)
        if conf.get('portMappings'):
            return _as_mappings(conf['portMappings'])
    legacy = labels.get(L.PORTS, '')
    if legacy == '':
        return []
    try:
        ports = load_json(L.PORTS, legacy)
    except UserError as exc:
        problem = str(exc)[len(L.PORTS) + 2:]
        raise UserError('failed to parse label %s=%s: %s' % (go_quote(L.PORTS), go_quote(legacy), problem))
    if name is None:
        name = labels.get(L.NAME, '')
    if warn is not None:
        warn(_LEGACY_WARNING % (name, cid[:12]))
    return _as_mappings(ports)


def parse_port_arg(arg):
    """`nerdctl port`'s PRIVATE_PORT[/PROTO] -> (port, proto); nerdctl's checks in nerdctl's order."""
    parts = arg.split('/')
    port = atoi(parts[0])
    if port <= 0:
        raise UserError('unexpected port %d' % port)
    if len(parts) == 1:
        return port, 'tcp'
    if len(parts) == 2:
        return port, parts[1].lower()
    raise UserError('failed to parse %s' % go_quote(arg))


def port_lines(mappings, port=None, proto='tcp', cid=''):
    """What `nerdctl port` prints, as lines: all mappings, or the first match for port/proto."""
    if port is None or port < 0:
        return ['%d/%s -> %s:%d' % (m['ContainerPort'], m['Protocol'], m['HostIP'], m['HostPort']) for m in mappings]
    for m in mappings:
        if m['ContainerPort'] == port and m['Protocol'].lower() == proto:
            return ['%s:%d' % (m['HostIP'], m['HostPort'])]
    raise UserError('no public port %d/%s published for %s' % (port, proto, go_quote(cid)))
