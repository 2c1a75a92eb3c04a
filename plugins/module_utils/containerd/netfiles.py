# -*- coding: utf-8 -*-
# Copyright (c) ctrd.containerd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""/etc/resolv.conf, /etc/hosts and /etc/hostname of a new container, as nerdctl create writes and mounts them.

nerdctl keeps these files in the container's state dir (hosts in the hosts store) and bind-mounts them, so
other tools (nerdctl, the network hook that fills /etc/hosts) find them where they expect.  A container that
joins another one's network (`container:<x>`) mounts that container's files instead of owning any.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import socket

from . import labels as L
from . import spec as S
from .datastore import read_file, write_in_place
from .info import state_dir_of
from .reconfig import reconfig_net

_LOCALHOST_V4 = '127.'
_GOOGLE_DNS = ['8.8.8.8', '8.8.4.4', '2001:4860:4860::8888', '2001:4860:4860::8844']


def parse_resolv_conf(text):
    """nameservers, search domains and options of a resolv.conf text."""
    servers, search, options = [], [], []
    for line in (text or '').splitlines():
        fields = line.split()
        if not fields or fields[0].startswith(('#', ';')):
            continue
        if fields[0] == 'nameserver' and len(fields) > 1:
            servers.append(fields[1])
        elif fields[0] in ('search', 'domain'):
            search = fields[1:]
        elif fields[0] == 'options':
            options.extend(fields[1:])
    return servers, search, options


def _is_localhost(server):
    return server.startswith(_LOCALHOST_V4) or server == '::1'


def build_resolv_conf(host_text, mode):
    """The container's resolv.conf for network `mode` (cni, host, none), from the host's file."""
    servers, search, options = parse_resolv_conf(host_text)
    if mode == 'cni':
        servers = [s for s in servers if not _is_localhost(s)]
        if not servers:
            servers = list(_GOOGLE_DNS)
        servers = [s for s in servers if ':' not in s]
    elif mode == 'none':
        servers = [s for s in servers if not _is_localhost(s)]
    out = []
    if search and search != ['.']:
        out.append('search %s\n' % ' '.join(search))
    for server in servers:
        out.append('nameserver %s\n' % server)
    if options:
        out.append('options %s\n' % ' '.join(options))
    return ''.join(out)


def host_resolv_conf_text():
    """/etc/resolv.conf, or systemd-resolved's upstream file when the host lists the 127.0.0.53 stub."""
    path = '/etc/resolv.conf'
    text = read_file(path) or ''
    if '127.0.0.53' in parse_resolv_conf(text)[0]:
        text = read_file('/run/systemd/resolve/resolv.conf') or text
    return text


def etc_mount(destination, source):
    """The bind mount nerdctl uses for the /etc files it manages."""
    return S.bind_mount(destination, source, ['bind', 'rprivate'])


def _join_target_files(env, targets, spec):
    """`container:<x>` networking: the target's network namespace and its /etc files; no hostname label of our own."""
    target = env.client.get_container(targets['net'])
    target_state = state_dir_of(target, env.params)
    reconfig_net(env.client, {L.NETWORKS: json.dumps(['container:%s' % target.id])}, spec)
    spec['mounts'].append(etc_mount('/etc/resolv.conf', os.path.join(target_state, 'resolv.conf')))
    spec['mounts'].append(etc_mount('/etc/hosts', env.hosts_store().hosts_path(target.id)))
    target_spec = env.client.read_spec(target)
    if target_spec.get('hostname'):
        spec['hostname'] = target_spec['hostname']
    spec['mounts'].append(etc_mount('/etc/hostname', os.path.join(target_state, 'hostname')))
    return ''


def network_files(env, desired, cid, state_dir, targets, spec, created):
    """resolv.conf, hosts and hostname for the network mode (§3.18); returns the hostname label value."""
    kind = desired['network_type']
    if kind == 'container':
        return _join_target_files(env, targets, spec)
    hosts = env.hosts_store()
    mode = 'host' if kind == 'host' else ('none' if kind == 'none' else 'cni')
    resolv_path = os.path.join(state_dir, 'resolv.conf')
    write_in_place(resolv_path, build_resolv_conf(host_resolv_conf_text(), mode), 0o644)
    seed = (read_file('/etc/hosts') or '') if kind == 'host' else ''
    hosts_path = hosts.alloc_hosts_file(cid, seed)
    created.add(lambda: hosts.delete(cid))
    if kind == 'host':
        S.host_namespace(spec, 'network')
        hostname = desired.get('hostname') or socket.gethostname() or cid[:12]
        for dest, src in (('/etc/hosts', hosts_path), ('/etc/resolv.conf', resolv_path)):
            if not any(m['destination'] == dest for m in spec['mounts']):
                spec['mounts'].append(etc_mount(dest, src))
    else:
        spec['mounts'].append(etc_mount('/etc/resolv.conf', resolv_path))
        spec['mounts'].append(etc_mount('/etc/hosts', hosts_path))
        hostname = desired.get('hostname') or cid[:12]
    hostname_path = os.path.join(state_dir, 'hostname')
    write_in_place(hostname_path, hostname + '\n', 0o644)
    os.chmod(hostname_path, 0o644)
    spec['hostname'] = hostname
    spec['mounts'].append(etc_mount('/etc/hostname', hostname_path))
    return hostname
