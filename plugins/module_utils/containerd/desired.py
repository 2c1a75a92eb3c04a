# -*- coding: utf-8 -*-
# Copyright (c) ctrd.containerd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The desired configuration of a containerd_container: its options validated and normalised.

normalize() is pure, so every rule nerdctl checks before it talks to containerd fails the same way in check
mode and in unit tests.  The two helpers at the end complete the configuration with what only the host can
answer (the full IDs of `container:<x>` targets, the host-gateway address); create and compare both use them.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from . import labels as L
from .containerutil import parse_signal
from .errors import UserError
from .extrahosts import default_host_gateway_ip, parse_extra_hosts
from .netopts import network_type
from .network.conflist import DEFAULT_NETWORK_NAME as DEFAULT_NETWORK
from .resolve import find_containers, resolve_container

RESTART_POLICIES = ('no', 'always', 'on-failure', 'unless-stopped')


def _as_list(value):
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return [str(value)]


def env_list(env):
    """The `env` option (a dict, or a list of KEY=VALUE) as KEY=VALUE strings in the given order."""
    if env is None:
        return None
    if isinstance(env, dict):
        result = []
        for key, value in env.items():
            if value is None:
                result.append(str(key))
            elif isinstance(value, bool):
                result.append('%s=%s' % (key, 'true' if value else 'false'))
            else:
                result.append('%s=%s' % (key, value))
        return result
    return [str(e) for e in env]


def parse_restart_policy(text):
    """Validate a restart policy the way nerdctl's generateRestartOpts does; returns (name, max retries)."""
    if text is None or text == '':
        return 'no', 0
    parts = text.split(':')
    name = parts[0]
    if name not in RESTART_POLICIES:
        raise UserError('restart policy "%s" not supported' % text)
    if len(parts) > 2:
        raise UserError('restart policy "%s" not supported' % text)
    if len(parts) == 2:
        if name != 'on-failure':
            raise UserError('restart policy "%s" not support max retry count' % text)
        try:
            count = int(parts[1])
        except ValueError as exc:
            raise UserError('invalid max retry count: %s' % parts[1]) from exc
        if count < 0:
            raise UserError('invalid max retry count: %s' % parts[1])
        return name, count
    return name, 0


def restart_label(policy):
    """The `containerd.io/restart.policy` value, or None for `no` (nerdctl writes no label then)."""
    name, count = parse_restart_policy(policy)
    if name == 'no':
        return None
    if name == 'on-failure' and count > 0:
        return 'on-failure:%d' % count
    return name


def _mode(value, what):
    """pid_mode / ipc_mode: lower-cased as nerdctl does; returns (kind, target or None)."""
    if value is None:
        return None
    value = value.lower()
    if value.startswith('container:'):
        target = value.split(':', 1)[1]
        if not target:
            raise UserError('invalid %s namespace. Set --%s=[host|container:<name|id>' % (what, what))
        return ('container', target)
    return (value, None)


def _check_network(params, networks, kind):
    """nerdctl's rules for `--network=container:<x>` (one network, no own hostname, ports or hosts); no `ns:`."""
    if kind == 'container':
        if len(networks) != 1:
            raise UserError("conflicting options: only one network specification is allowed when using "
                            "'--network=container:<container>'")
        conflicts = []
        if params.get('hostname'):
            conflicts.append('--hostname')
        if params.get('published_ports'):
            conflicts.append('-p/--publish')
        if params.get('extra_hosts'):
            conflicts.append('--add-host')
        if conflicts:
            raise UserError('conflicting options: the following arguments are not supported when using '
                            '`--network=container:<container>`: [%s]' % ' '.join(conflicts))
    if kind == 'ns':
        raise UserError('network mode "%s" is not supported by this module' % networks[0])


def normalize(params):
    """Module options -> the desired configuration dict; every rule that needs no containerd is checked here."""
    labels = params.get('labels')
    if labels is not None:
        labels = dict((str(k), '' if v is None else str(v)) for k, v in labels.items())
        L.validate_user_labels(labels)
    networks = _as_list(params.get('networks'))
    if networks is not None and not networks:
        networks = None
    kind = network_type(networks if networks is not None else [DEFAULT_NETWORK])
    _check_network(params, networks, kind)
    if params.get('restart_policy') is not None:
        parse_restart_policy(params['restart_policy'])
    pid = _mode(params.get('pid_mode'), 'pid')
    if pid is not None and pid[0] not in ('host', 'container', ''):
        raise UserError('invalid pid namespace. Set --pid=[host|container:<name|id>')
    ipc = _mode(params.get('ipc_mode'), 'ipc')
    if ipc is not None and ipc[0] not in ('', 'private', 'host', 'shareable', 'container'):
        raise UserError('invalid ipc namespace. Set --ipc=[host|container:<name|id>')
    if params.get('stop_signal') is not None:
        parse_signal(params['stop_signal'])
    return {
        'name': params.get('name'),
        'image': params.get('image'),
        'command': _as_list(params.get('command')),
        'entrypoint': _as_list(params.get('entrypoint')),
        'env': env_list(params.get('env')),
        'labels': labels,
        'working_dir': params.get('working_dir'),
        'user': params.get('user'),
        'hostname': params.get('hostname'),
        'networks': networks,
        'network_type': kind,
        'published_ports': _as_list(params.get('published_ports')),
        'volumes': _as_list(params.get('volumes')),
        'extra_hosts': _as_list(params.get('extra_hosts')),
        'read_only': params.get('read_only'),
        'restart_policy': params.get('restart_policy'),
        'stop_signal': params.get('stop_signal'),
        'stop_timeout': params.get('stop_timeout'),
        'pid_mode': pid,
        'ipc_mode': ipc,
        'auto_remove': params.get('auto_remove'),
    }


def resolve_targets(client, desired):
    """Full IDs of the container:<x> targets of networks, pid_mode and ipc_mode (None when unused).

    The network target keeps nerdctl's own wording for zero or several matches; pid and ipc targets use
    the walker's usual `no such container` / `multiple IDs` texts.
    """
    targets = {'net': None, 'pid': None, 'ipc': None}
    if desired.get('network_type') == 'container':
        target = desired['networks'][0].split(':', 1)[1]
        hits = find_containers(client, target)
        if len(hits) > 1:
            raise UserError('container networking: multiple containers found with prefix: %s' % target)
        if not hits:
            raise UserError('container networking: could not find container: %s' % target)
        targets['net'] = hits[0].id
    for key, what in (('pid_mode', 'pid'), ('ipc_mode', 'ipc')):
        mode = desired.get(key)
        if mode and mode[0] == 'container':
            targets[what] = resolve_container(client, mode[1]).id
    return targets


def desired_extra_hosts(desired):
    """The `extra_hosts` entries as nerdctl records them (host:ip), host-gateway replaced by the host's address."""
    entries = desired.get('extra_hosts') or []
    gateway = default_host_gateway_ip() if any(e.endswith(':host-gateway') for e in entries) else ''
    return parse_extra_hosts(entries, gateway, ':')
