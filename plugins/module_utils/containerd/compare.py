# -*- coding: utf-8 -*-
# Copyright (c) ctrd.containerd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""An existing container's configuration read back from its labels, spec and port file, compared with the desired one.

compare() is pure and names every differing option with its recorded and desired value, so the module can
report why it recreates a container (and refuse to with recreate=never).  read_facts() gathers its input.
Published ports are split here without nerdctl's parser (ports.parse_publish): that one allocates automatic
host ports, and a comparison must not take ports from anybody.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import posixpath

from . import labels as L
from . import spec as S
from .datastore import validate_identifier
from .desired import desired_extra_hosts, restart_label
from .errors import UserError
from .info import state_dir_of
from .ports import load_port_mappings
from .volumes import container_volumes

# Labels written by containerd's restart monitor or by lifecycle verbs: never part of the comparison.
_RUNTIME_LABEL_PREFIXES = ('containerd.io/restart.',)


def split_publish(text):
    """`[ip:][hostPort:]containerPort[/proto]` -> (ip, host part, container part, proto), without allocating."""
    proto = 'tcp'
    raw = text
    if '/' in text:
        raw, proto = text.split('/', 1)
        proto = proto.lower()
    parts = raw.split(':')
    container = parts[-1]
    if len(parts) == 1:
        return '0.0.0.0', '', container, proto
    if len(parts) == 2:
        return '0.0.0.0', parts[0], container, proto
    ip = ':'.join(parts[:-2]) or '0.0.0.0'
    if ip.startswith('[') and ip.endswith(']'):
        ip = ip[1:-1]
    return ip, parts[-2], container, proto


def _port_range(text):
    if '-' in text:
        start, end = text.split('-', 1)
        return int(start), int(end)
    return int(text), int(text)


def ports_match(specs, mappings):
    """Whether recorded PortMappings satisfy the `published_ports` entries (automatic host ports match any)."""
    wanted = []
    for text in specs or []:
        ip, host, cport, proto = split_publish(text)
        try:
            c_start, c_end = _port_range(cport)
            h_range = _port_range(host) if host else None
        except ValueError:
            return False
        for i in range(c_end - c_start + 1):
            if h_range is None:
                hosts = None
            elif c_start == c_end and h_range[0] != h_range[1]:
                hosts = (h_range[0], h_range[1])
            else:
                hosts = (h_range[0] + i, h_range[0] + i)
            wanted.append((ip, hosts, c_start + i, proto))
    have = list(mappings or [])
    if len(wanted) != len(have):
        return False
    for (ip, hosts, cport, proto), got in zip(wanted, have):
        if got.get('HostIP', '0.0.0.0') != ip or int(got.get('ContainerPort', 0)) != cport:
            return False
        if (got.get('Protocol') or 'tcp').lower() != proto:
            return False
        if hosts is not None and not hosts[0] <= int(got.get('HostPort', 0)) <= hosts[1]:
            return False
    return True


def user_labels(labels):
    """The labels a user (or the image) set: everything but nerdctl's, the stop signal and restart state."""
    result = {}
    for key, value in (labels or {}).items():
        if L.PREFIX in key or key == L.STOP_SIGNAL or key.startswith(_RUNTIME_LABEL_PREFIXES):
            continue
        result[key] = value
    return result


def json_label(labels, key, default):
    """A JSON label's value, or `default` when it is missing, empty or broken (a comparison never fails on it)."""
    raw = labels.get(key)
    if raw in (None, ''):
        return default
    try:
        return json.loads(raw)
    except ValueError:
        return default


def volume_signature(text):
    """A `volumes` entry as (type, source-or-name, destination, mode); None stands for an anonymous volume."""
    split = text.lstrip(':').split(':')
    if len(split) == 1:
        return ('volume', None, posixpath.normpath(split[0]), '')
    mode = split[2] if len(split) > 2 else ''
    try:
        validate_identifier(split[0])
        return ('volume', split[0], posixpath.normpath(split[1]), mode)
    except UserError:
        return ('bind', posixpath.normpath(os.path.abspath(split[0])), posixpath.normpath(split[1]), mode)


def recorded_volume_signatures(volumes, anonymous):
    """Recorded mounts (container_volumes entries) as volume_signature tuples."""
    result = []
    for m in volumes or []:
        if not m.get('destination'):
            continue
        kind = m.get('type') or 'bind'
        ident = m.get('name') if kind == 'volume' else m.get('source')
        if kind == 'volume' and ident in anonymous:
            ident = None
        result.append((kind, ident, m.get('destination'), m.get('mode') or ''))
    return result


def _show_volume(sig):
    _kind, ident, dest, mode = sig
    text = dest if ident is None else '%s:%s' % (ident, dest)
    return text + (':' + mode if mode else '')


def compare(desired, facts):
    """The options whose desired value differs from the existing container, as diff entries.

    `facts` holds what was read from the container and its image: labels, spec, ports (PortMappings),
    image_name/image_chain (desired image) and snapshot_parent, image_config, resolved ids of container:
    targets (net_target, pid_target, ipc_target), desired_extra_hosts and desired_mounts (parsed).
    Options left unset (None) are not compared: the container keeps what it has.
    """
    labels = facts['labels']
    spec = facts['spec']
    process = spec.get('process') or {}
    image_config = (facts.get('image_config') or {}).get('config') or {}
    diffs = []

    def add(field, before, after):
        diffs.append({'field': field, 'before': before, 'after': after})

    if desired.get('image') is not None:
        if facts.get('record_image') != facts.get('image_name'):
            add('image', facts.get('record_image'), facts.get('image_name'))
        elif facts.get('image_chain') and facts.get('snapshot_parent') not in (None, facts.get('image_chain')):
            add('image', 'chain %s' % facts.get('snapshot_parent'), 'chain %s' % facts.get('image_chain'))
    if desired.get('command') is not None or desired.get('entrypoint') is not None:
        want = S.image_args(image_config, desired.get('entrypoint'), desired.get('command'))
        have = process.get('args') or []
        if want != have:
            field = 'command'
            if desired.get('entrypoint') is not None and have[:len(desired['entrypoint'])] != desired['entrypoint']:
                field = 'entrypoint'
            add(field, have, want)
    if desired.get('env') is not None:
        hostname = labels.get(L.HOSTNAME, '')
        want = S.replace_or_append_env(S.image_env(image_config), list(desired['env']) + ['HOSTNAME=' + hostname])
        have = process.get('env') or []
        if sorted(want) != sorted(have):
            add('env', sorted(have), sorted(want))
    if desired.get('labels') is not None:
        want = dict(image_config.get('Labels') or {})
        want.update(desired['labels'])
        have = user_labels(labels)
        if want != have:
            add('labels', have, want)
    if desired.get('working_dir') is not None and process.get('cwd') != desired['working_dir']:
        add('working_dir', process.get('cwd'), desired['working_dir'])
    if desired.get('user') is not None and labels.get(L.USER, '') != desired['user']:
        add('user', labels.get(L.USER, ''), desired['user'])
    if desired.get('hostname') is not None and labels.get(L.HOSTNAME) != desired['hostname']:
        add('hostname', labels.get(L.HOSTNAME), desired['hostname'])
    if desired.get('networks') is not None:
        want = list(desired['networks'])
        if desired.get('network_type') == 'container':
            want = ['container:%s' % facts.get('net_target')]
        have = json_label(labels, L.NETWORKS, [])
        if want != have:
            add('networks', have, want)
    if desired.get('published_ports') is not None and not ports_match(desired['published_ports'], facts.get('ports')):
        add('published_ports', facts.get('ports') or [], desired['published_ports'])
    if desired.get('volumes') is not None:
        want = [volume_signature(v) for v in desired['volumes']]
        have = recorded_volume_signatures(facts.get('volumes'), json_label(labels, L.ANONYMOUS_VOLUMES, []) or [])
        image_volumes = set((image_config.get('Volumes') or {}).keys())
        user_dests = set(m[2] for m in want)
        have = [m for m in have if not (m[1] is None and m[2] in image_volumes and m[2] not in user_dests)]
        if sorted(have, key=str) != sorted(want, key=str):
            add('volumes', [_show_volume(m) for m in have], [_show_volume(m) for m in want])
    if desired.get('extra_hosts') is not None:
        have = json_label(labels, L.EXTRA_HOSTS, []) or []
        if have != facts.get('desired_extra_hosts'):
            add('extra_hosts', have, facts.get('desired_extra_hosts'))
    if desired.get('read_only') is not None:
        have = bool((spec.get('root') or {}).get('readonly'))
        if have != bool(desired['read_only']):
            add('read_only', have, bool(desired['read_only']))
    if desired.get('restart_policy') is not None:
        want = restart_label(desired['restart_policy']) or 'no'
        have = labels.get(L.RESTART_POLICY) or 'no'
        if want != have:
            add('restart_policy', have, want)
    if desired.get('stop_signal') is not None:
        want = image_config.get('StopSignal') or desired['stop_signal']
        if labels.get(L.STOP_SIGNAL) != want:
            add('stop_signal', labels.get(L.STOP_SIGNAL), want)
    if desired.get('stop_timeout') is not None:
        have = labels.get(L.STOP_TIMEOUT)
        want = str(desired['stop_timeout']) if desired['stop_timeout'] else None
        if have != want:
            add('stop_timeout', int(have) if have and have.lstrip('-').isdigit() else 0, desired['stop_timeout'])
    if desired.get('pid_mode') is not None:
        kind = desired['pid_mode'][0]
        have_target = labels.get(L.PID_CONTAINER)
        have = 'container:%s' % have_target if have_target else ('host' if not S.has_namespace(spec, 'pid') else '')
        want = 'container:%s' % facts.get('pid_target') if kind == 'container' else kind
        if have != want:
            add('pid_mode', have, want)
    if desired.get('ipc_mode') is not None:
        kind = desired['ipc_mode'][0] or 'private'
        ipc = json_label(labels, L.IPC, {}) or {}
        have = ipc.get('mode') or 'private'
        if have == 'container':
            have = 'container:%s' % ipc.get('victimContainerId')
        want = 'container:%s' % facts.get('ipc_target') if kind == 'container' else kind
        if have != want:
            add('ipc_mode', have, want)
    if desired.get('auto_remove') is not None:
        have = labels.get(L.AUTO_REMOVE) == 'true'
        if have != bool(desired['auto_remove']):
            add('auto_remove', have, bool(desired['auto_remove']))
    return diffs


def read_facts(env, record, desired, image, targets):
    """What compare() needs from the existing container and the desired image."""
    client = env.client
    labels = dict(record.labels)
    info = client.stat_snapshot(record.snapshotter, record.snapshot_key) if record.snapshot_key else None
    state_dir = state_dir_of(record, env.params)
    facts = {
        'labels': labels,
        'spec': client.read_spec(record),
        'record_image': record.image,
        'image_name': image.image.name if image else None,
        'image_chain': image.chain_id if image else None,
        'image_config': image.config if image else {},
        'snapshot_parent': info.parent if info is not None else None,
        'ports': load_port_mappings(state_dir, labels, env.warn, L.container_name(labels), record.id)
        if os.path.isdir(state_dir) else [],
        'volumes': container_volumes(labels, env.warn),
        'net_target': targets['net'], 'pid_target': targets['pid'], 'ipc_target': targets['ipc'],
    }
    if desired.get('extra_hosts') is not None:
        facts['desired_extra_hosts'] = desired_extra_hosts(desired)
    return facts
