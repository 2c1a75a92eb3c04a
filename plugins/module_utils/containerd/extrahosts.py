# -*- coding: utf-8 -*-
# Copyright (c) ctrd.containerd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""--add-host handling: nerdctl's ParseExtraHosts and the default host-gateway address.

The result goes into the nerdctl/extraHosts label and from there into every /etc/hosts nerdctl
rewrites, so the quirks (the `=` form rejected after passing validation, brackets kept) matter.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import fcntl
import ipaddress
import socket
import struct

from .errors import UserError
from .goutil import go_quote, parse_ip

HOST_GATEWAY = 'host-gateway'
_SIOCGIFADDR = 0x8915


def validate_extra_host(entry):
    """Docker CLI's ValidateExtraHost: split at the first '=' (else ':'), name without ':', value an IP."""
    if '=' in entry:
        name, value = entry.split('=', 1)
    elif ':' in entry:
        name, value = entry.split(':', 1)
    else:
        raise UserError('bad format for add-host: %s' % go_quote(entry))
    if not name or ':' in name:
        raise UserError('bad format for add-host: %s' % go_quote(entry))
    if value != HOST_GATEWAY:
        if len(value) > 2 and value[0] == '[' and value[-1] == ']':
            value = value[1:-1]
        if parse_ip(value.strip()) is None:
            raise UserError('invalid IP address in add-host: %s' % go_quote(value))


def parse_extra_hosts(entries, host_gateway_ip, separator=':'):
    """Deduplicate (first wins, order kept), validate, re-split at the first ':' and resolve host-gateway.

    Always returns a list (possibly empty), which serialises as `[]` as nerdctl v2 writes it.
    """
    seen = set()
    hosts = []
    for entry in entries or ():
        if entry in seen:
            continue
        seen.add(entry)
        validate_extra_host(entry)
        parts = entry.split(':', 1)
        if len(parts) != 2:
            raise UserError('invalid host-to-IP map %s' % entry)
        host, ip = parts
        if ip == HOST_GATEWAY:
            if not host_gateway_ip:
                raise UserError('unable to derive the IP value for host-gateway')
            ip = host_gateway_ip
        hosts.append(host + separator + ip)
    return hosts


def extra_hosts_map(entries):
    """The label's "host:ip" entries as the map /etc/hosts is written from (a duplicate host keeps the last IP)."""
    result = {}
    for entry in entries or ():
        parts = entry.split(':', 1)
        if len(parts) == 2:
            result[parts[0]] = parts[1]
    return result


def _interface_ipv4(sock, name):
    try:
        packed = fcntl.ioctl(sock.fileno(), _SIOCGIFADDR, struct.pack('256s', name.encode('utf-8')[:15]))
    except OSError:
        return None
    return ipaddress.IPv4Address(packed[20:24])


def default_host_gateway_ip():
    """The first non-loopback IPv4 address of the host, interfaces in index order; '' if there is none.

    Reads each interface's address with the SIOCGIFADDR ioctl on an unconnected UDP socket: no packet
    is sent anywhere.
    """
    try:
        interfaces = sorted(socket.if_nameindex())
    except OSError:
        return ''
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        for _index, name in interfaces:
            ip = _interface_ipv4(sock, name)
            if ip is not None and not ip.is_loopback:
                return str(ip)
    finally:
        sock.close()
    return ''
