# -*- coding: utf-8 -*-
# Copyright (c) ctrd.containerd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Define and remove containers the way `nerdctl create` and `nerdctl rm` do (containerd_container).

Three parts, in this order in the file:
* the desired configuration: module options validated and normalised (pure);
* the comparison of that configuration with an existing container's labels, spec and port file, naming
  every differing option (pure once the container's facts are read);
* the mechanism: create (state dir, names store, /etc files, network-config.json, labels, annotations,
  snapshot, container record) and remove (stop, task, network, record, snapshot, files, name, volumes),
  then the policy that ties them together for present/absent with check mode and diff.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import posixpath
import shutil
import socket
import stat

from . import labels as L
from . import spec as S
from .datastore import NameStore, container_state_dir, data_store, store_lock, write_in_place
from .netopts import network_type
from .errors import NotFoundError, UserError

RUNTIME = 'io.containerd.runc.v2'
RESTART_POLICIES = ('no', 'always', 'on-failure', 'unless-stopped')
RECREATE_CHOICES = ('never', 'on_change', 'always')
DEFAULT_NETWORK = 'bridge'
# containerd 1.6/1.7 register the restart monitor as an internal plugin, 2.x as a container monitor.
RESTART_PLUGIN_TYPES = ('io.containerd.internal.v1', 'io.containerd.monitor.v1', 'io.containerd.monitor.container.v1')

# Labels written by containerd's restart monitor or by lifecycle verbs: never part of the comparison.
_RUNTIME_LABEL_PREFIXES = ('containerd.io/restart.',)


# ==== desired configuration ===========================================================================

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
        except ValueError:
            raise UserError('invalid max retry count: %s' % parts[1])
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
    if params.get('restart_policy') is not None:
        parse_restart_policy(params['restart_policy'])
    pid = _mode(params.get('pid_mode'), 'pid')
    if pid is not None and pid[0] not in ('host', 'container', ''):
        raise UserError('invalid pid namespace. Set --pid=[host|container:<name|id>')
    ipc = _mode(params.get('ipc_mode'), 'ipc')
    if ipc is not None and ipc[0] not in ('', 'private', 'host', 'shareable', 'container'):
        raise UserError('invalid ipc namespace. Set --ipc=[host|container:<name|id>')
    if params.get('stop_signal') is not None:
        from .containerutil import parse_signal
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


# ==== comparison ========================================================================================

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


def _json_label(labels, key, default):
    raw = labels.get(key)
    if raw in (None, ''):
        return default
    try:
        return json.loads(raw)
    except ValueError:
        return default


def volume_signature(text):
    """A `volumes` entry as (type, source-or-name, destination, mode); None stands for an anonymous volume."""
    from .datastore import validate_identifier
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
    kind, ident, dest, mode = sig
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
        have = _json_label(labels, L.NETWORKS, [])
        if want != have:
            add('networks', have, want)
    if desired.get('published_ports') is not None and not ports_match(desired['published_ports'], facts.get('ports')):
        add('published_ports', facts.get('ports') or [], desired['published_ports'])
    if desired.get('volumes') is not None:
        want = [volume_signature(v) for v in desired['volumes']]
        have = recorded_volume_signatures(facts.get('volumes'), _json_label(labels, L.ANONYMOUS_VOLUMES, []) or [])
        image_volumes = set((image_config.get('Volumes') or {}).keys())
        user_dests = set(m[2] for m in want)
        have = [m for m in have if not (m[1] is None and m[2] in image_volumes and m[2] not in user_dests)]
        if sorted(have, key=str) != sorted(want, key=str):
            add('volumes', [_show_volume(m) for m in have], [_show_volume(m) for m in want])
    if desired.get('extra_hosts') is not None:
        have = _json_label(labels, L.EXTRA_HOSTS, []) or []
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
        ipc = _json_label(labels, L.IPC, {}) or {}
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


# ==== resolv.conf, hostname, hosts ======================================================================

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
    text = _read(path) or ''
    if '127.0.0.53' in parse_resolv_conf(text)[0]:
        text = _read('/run/systemd/resolve/resolv.conf') or text
    return text


def _read(path):
    try:
        with open(path) as handle:
            return handle.read()
    except (IOError, OSError):
        return None


def _etc_mount(destination, source):
    return S.bind_mount(destination, source, ['bind', 'rprivate'])


# ==== the environment of one module run ================================================================

class Env(object):
    """Client, connection parameters and warning sink shared by create and remove."""

    def __init__(self, client, params, warn):
        self.client = client
        self.params = params
        self.warn = warn
        self.namespace = params['namespace']
        self._store = None

    @property
    def store(self):
        if self._store is None:
            self._store = data_store(self.params['data_root'], self.params['address'])
        return self._store

    def state_dir(self, cid):
        return container_state_dir(self.store, self.namespace, cid)

    def hosts_store(self):
        from .hostsstore import HostsStore
        return HostsStore(self.store, self.namespace)

    def lifecycle_ctx(self, req=None):
        from .lifecycle import Context
        return Context.from_params(self.params, self.warn, req)


# ==== reading an existing container ======================================================================

def resolve_target(client, req, prefix_multi, prefix_missing):
    """Resolve a container:<x> target with nerdctl's walker; returns the record."""
    from .resolve import find_containers
    hits = find_containers(client, req)
    if len(hits) > 1:
        raise UserError(prefix_multi % req)
    if not hits:
        raise UserError(prefix_missing % req)
    return hits[0]


def resolve_targets(client, desired):
    """Full IDs of the container:<x> targets of networks, pid_mode and ipc_mode (None when unused)."""
    targets = {'net': None, 'pid': None, 'ipc': None}
    if desired.get('network_type') == 'container':
        target = desired['networks'][0].split(':', 1)[1]
        targets['net'] = resolve_target(client, target, 'container networking: multiple containers found with prefix: %s',
                                        'container networking: could not find container: %s').id
    for key, what in (('pid_mode', 'pid'), ('ipc_mode', 'ipc')):
        mode = desired.get(key)
        if mode and mode[0] == 'container':
            targets[what] = resolve_target(client, mode[1], 'multiple IDs found with provided prefix: %s',
                                           'no such container: %s').id
    return targets


def desired_extra_hosts(desired):
    from .extrahosts import parse_extra_hosts, default_host_gateway_ip
    entries = desired.get('extra_hosts') or []
    gateway = default_host_gateway_ip() if any(e.endswith(':host-gateway') for e in entries) else ''
    return parse_extra_hosts(entries, gateway, ':')


def read_facts(env, record, desired, image, targets):
    """What compare() needs from the existing container and the desired image."""
    from .ports import load_port_mappings
    from .volumes import container_volumes
    client = env.client
    labels = dict(record.labels)
    info = client.stat_snapshot(record.snapshotter, record.snapshot_key) if record.snapshot_key else None
    state_dir = labels.get(L.STATE_DIR) or env.state_dir(record.id)
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


def parse_volumes(env, volumes):
    """nerdctl's -v for each entry (volumes are created): parse_volume results, in order."""
    from .volumes import parse_volume
    return [parse_volume(text, env.store, env.namespace, warn=env.warn) for text in volumes or []]


# ==== create ==============================================================================================

def new_id():
    return os.urandom(32).hex() if hasattr(bytes, 'hex') else ''.join('%02x' % ord(c) for c in os.urandom(32))


def cgroup_manager():
    """nerdctl's default: systemd on a unified-cgroup host whose PID 1 is systemd, else cgroupfs."""
    if os.path.exists('/sys/fs/cgroup/cgroup.controllers') and os.path.isdir('/run/systemd/system'):
        return 'systemd'
    return 'cgroupfs'


def check_restart_capability(client, policy):
    """nerdctl's check of the restart plugin: it must exist and support the policy (see the 1.6 note below)."""
    name, _count = parse_restart_policy(policy)
    if name == 'no':
        return
    plugin = None
    for p in client.plugins():
        if p.id == 'restart' and p.type in RESTART_PLUGIN_TYPES:
            plugin = p
            break
    if plugin is None:
        raise UserError('no restart plugin found')
    # nerdctl treats a plugin without capabilities (containerd 1.6) as supporting only `always`; the 1.6 monitor
    # does implement every policy (capabilities were only reported from 1.7 on), so we accept them all there.
    caps = list(plugin.capabilities) or list(RESTART_POLICIES)
    if name not in caps:
        raise UserError('unsupported restart policy "%s", supported policies are: [%s]' % (name, ' '.join(caps)))


class Created(object):
    """Rollback record of what create has done so far, undone in reverse on failure."""

    def __init__(self):
        self.undo = []

    def add(self, fn):
        self.undo.append(fn)

    def rollback(self, warn):
        for fn in reversed(self.undo):
            try:
                fn()
            except Exception as exc:  # pylint: disable=broad-except
                warn('cleanup after failed create: %s' % exc)


def read_rootfs_file(mounts, path):
    """A file of a prepared snapshot, read from its overlay/bind layer directories without mounting.

    Upper dir first, then the lower dirs in order; an overlay whiteout (a 0/0 char device) hides the file.
    """
    dirs = []
    for mount in mounts:
        if mount.type == 'bind':
            dirs.append(mount.source)
        elif mount.type == 'overlay':
            upper, lower = None, []
            for opt in mount.options:
                if opt.startswith('upperdir='):
                    upper = opt[len('upperdir='):]
                elif opt.startswith('lowerdir='):
                    lower = opt[len('lowerdir='):].split(':')
            dirs.extend(([upper] if upper else []) + lower)
    rel = path.lstrip('/')
    for base in dirs:
        full = os.path.join(base, rel)
        try:
            st = os.lstat(full)
        except OSError:
            continue
        if stat.S_ISCHR(st.st_mode) and st.st_rdev == 0:
            return None
        if stat.S_ISREG(st.st_mode):
            return _read(full)
        return None
    return None


def build_labels(env, desired, cid, image, targets, state_dir, extra_hosts, mounts, anon_volumes, hostname):
    """Every label of the new container: the image's, the user's, then nerdctl's internal ones."""
    config = image.config.get('config') or {}
    labels = dict(config.get('Labels') or {})
    labels.update(desired.get('labels') or {})
    policy = restart_label(desired.get('restart_policy'))
    if policy:
        labels[L.RESTART_POLICY] = policy
    labels[L.STOP_SIGNAL] = config.get('StopSignal') or desired.get('stop_signal') or 'SIGTERM'
    if desired.get('stop_timeout'):
        labels[L.STOP_TIMEOUT] = str(desired['stop_timeout'])
    networks = list(desired.get('networks') or [DEFAULT_NETWORK])
    if desired['network_type'] == 'container':
        networks = ['container:%s' % targets['net']]
    labels[L.NAMESPACE] = env.namespace
    if desired.get('name'):
        labels[L.NAME] = desired['name']
    labels[L.HOSTNAME] = hostname
    labels[L.DOMAINNAME] = ''
    labels[L.EXTRA_HOSTS] = json.dumps(extra_hosts, separators=(',', ':'))
    labels[L.STATE_DIR] = state_dir
    labels[L.NETWORKS] = json.dumps(networks, separators=(',', ':'))
    if anon_volumes:
        labels[L.ANONYMOUS_VOLUMES] = json.dumps(anon_volumes, separators=(',', ':'))
    labels[L.PLATFORM] = platform_of(image)
    if mounts:
        from .volumes import mounts_labels
        labels.update(mounts_labels(mounts))
    if targets['pid']:
        labels[L.PID_CONTAINER] = targets['pid']
    labels[L.IPC] = ipc_label(desired, targets, state_dir)
    labels[L.AUTO_REMOVE] = L.encode_rm_opt(bool(desired.get('auto_remove')))
    labels[L.HOST_CONFIG] = '{"BlkioWeight":0,"CidFile":"","Devices":null}'
    labels[L.DNS] = '{"DNSServers":null,"DNSResolvConfOptions":null,"DNSSearchDomains":null}'
    if desired.get('user'):
        labels[L.USER] = desired['user']
    return labels


def platform_of(image):
    config = image.config or {}
    text = '%s/%s' % (config.get('os') or 'linux', config.get('architecture') or 'amd64')
    if config.get('variant'):
        text += '/' + config['variant']
    return text


def ipc_label(desired, targets, state_dir):
    kind = (desired.get('ipc_mode') or ('private', None))[0] or 'private'
    value = {'mode': kind}
    if kind == 'shareable':
        value['hostShmPath'] = os.path.join(state_dir, 'shm')
    elif kind == 'container':
        value['victimContainerId'] = targets['ipc']
    return json.dumps(value, separators=(',', ':'))


def network_files(env, desired, cid, state_dir, targets, spec, created):
    """resolv.conf, hosts and hostname for the network mode (§3.18); returns the hostname label value."""
    kind = desired['network_type']
    if kind == 'container':
        target = env.client.get_container(targets['net'])
        target_state = dict(target.labels).get(L.STATE_DIR) or env.state_dir(target.id)
        from .reconfig import reconfig_net
        reconfig_net(env.client, {L.NETWORKS: json.dumps(['container:%s' % target.id])}, spec)
        spec['mounts'].append(_etc_mount('/etc/resolv.conf', os.path.join(target_state, 'resolv.conf')))
        spec['mounts'].append(_etc_mount('/etc/hosts', env.hosts_store().hosts_path(target.id)))
        target_spec = env.client.read_spec(target)
        if target_spec.get('hostname'):
            spec['hostname'] = target_spec['hostname']
        spec['mounts'].append(_etc_mount('/etc/hostname', os.path.join(target_state, 'hostname')))
        return ''
    hosts = env.hosts_store()
    mode = 'host' if kind == 'host' else ('none' if kind == 'none' else 'cni')
    resolv_path = os.path.join(state_dir, 'resolv.conf')
    write_in_place(resolv_path, build_resolv_conf(host_resolv_conf_text(), mode), 0o644)
    seed = (_read('/etc/hosts') or '') if kind == 'host' else ''
    hosts_path = hosts.alloc_hosts_file(cid, seed)
    created.add(lambda: hosts.delete(cid))
    if kind == 'host':
        S.host_namespace(spec, 'network')
        hostname = desired.get('hostname') or socket.gethostname() or cid[:12]
        for dest, src in (('/etc/hosts', hosts_path), ('/etc/resolv.conf', resolv_path)):
            if not any(m['destination'] == dest for m in spec['mounts']):
                spec['mounts'].append(_etc_mount(dest, src))
    else:
        spec['mounts'].append(_etc_mount('/etc/resolv.conf', resolv_path))
        spec['mounts'].append(_etc_mount('/etc/hosts', hosts_path))
        hostname = desired.get('hostname') or cid[:12]
    hostname_path = os.path.join(state_dir, 'hostname')
    write_in_place(hostname_path, hostname + '\n', 0o644)
    os.chmod(hostname_path, 0o644)
    spec['hostname'] = hostname
    spec['mounts'].append(_etc_mount('/etc/hostname', hostname_path))
    return hostname


def apply_rootfs_propagation(spec, minimums):
    """Raise linux.rootfsPropagation to what shared/slave binds need (nerdctl's volume options)."""
    current = spec['linux'].get('rootfsPropagation', '')
    for need in minimums:
        if need == 'shared' and current not in ('shared', 'rshared'):
            current = 'shared'
        elif need == 'rslave' and current not in ('shared', 'rshared', 'slave', 'rslave'):
            current = 'rslave'
    if current:
        spec['linux']['rootfsPropagation'] = current


def image_volume_mounts(env, image, user_mounts):
    """Anonymous volumes for the image's VOLUMEs that the user did not mount elsewhere (nerdctl does this)."""
    dests = set(m['mount']['Destination'] for m in user_mounts)
    extra = []
    for path in sorted(((image.config.get('config') or {}).get('Volumes') or {}).keys()):
        if path not in dests:
            extra.append(path)
    return extra


def create_container(env, desired, image, targets):
    """nerdctl's create over containerd's API; returns the new container record."""
    cid = new_id()
    created = Created()
    try:
        return _create(env, desired, image, targets, cid, created)
    except BaseException:
        created.rollback(env.warn)
        raise


def _create(env, desired, image, targets, cid, created):
    client = env.client
    params = env.params
    state_dir = env.state_dir(cid)
    vol_root = os.path.join(env.store, 'volumes', env.namespace)
    with store_lock(vol_root):
        os.makedirs(state_dir, 0o700)
        created.add(lambda: shutil.rmtree(state_dir, ignore_errors=True))
        check_restart_capability(client, desired.get('restart_policy'))
        version = client.version()['version']
        spec = S.apply_nerdctl_platform(S.default_spec(env.namespace, cid, version))
        manager = cgroup_manager()
        if manager == 'systemd':
            spec['linux']['cgroupsPath'] = 'system.slice:nerdctl:%s' % cid

        # namespaces (ipc, then pid) as nerdctl's setPlatformOptions applies them
        from .reconfig import reconfig_ipc, reconfig_pid
        ipc = ipc_label(desired, targets, state_dir)
        ns_labels = {L.IPC: ipc}
        if targets['pid']:
            ns_labels[L.PID_CONTAINER] = targets['pid']
        if desired.get('pid_mode') and desired['pid_mode'][0] == 'host':
            S.host_namespace(spec, 'pid')
        reconfig_ipc(client, ns_labels, spec)
        reconfig_pid(client, ns_labels, spec)

        # image, args, read-only, working dir
        config = image.config.get('config') or {}
        args = S.image_args(config, desired.get('entrypoint'), desired.get('command'))
        lease = client.create_lease({'containerd.io/gc.expire': _expire()})
        try:
            mounts = client.prepare_snapshot(params['snapshotter'], cid, image.chain_id, lease=lease)
            created.add(lambda: client.remove_snapshot(params['snapshotter'], cid))
            userdb = S.UserDB(read_rootfs_file(mounts, '/etc/passwd'), read_rootfs_file(mounts, '/etc/group'))
            S.apply_image_config(spec, config, args, userdb)
            if desired.get('read_only'):
                spec['root']['readonly'] = True
            if desired.get('working_dir'):
                spec['process']['cwd'] = desired['working_dir']

            # volumes
            user_mounts = parse_volumes(env, desired.get('volumes'))
            user_mounts.extend(parse_volumes(env, image_volume_mounts(env, image, user_mounts)))
            anon = [m['anonymous_volume'] for m in user_mounts if m['anonymous_volume']]
            spec['mounts'].extend(m['oci_mount'] for m in user_mounts)
            apply_rootfs_propagation(spec, [m['rootfs_propagation'] for m in user_mounts])
            label_mounts = [m['mount'] for m in user_mounts]

            # networking files, env with HOSTNAME, hooks
            hostname = network_files(env, desired, cid, state_dir, targets, spec, created)
            S.set_env(spec, list(desired.get('env') or []) + ['HOSTNAME=' + hostname])
            from .network.install import install_hook, spec_hooks
            argv = install_hook(params['data_root'])
            spec['hooks'] = spec_hooks(argv, params['data_root'], params['address'], params['cni_path'],
                                       params['cni_netconf_path'])

            # user
            if desired.get('user'):
                S.set_user(spec, desired['user'], userdb)
                spec['process']['user'].pop('additionalGids', None)
                S.set_additional_gids(spec, desired['user'], userdb)

            # name, extra hosts, labels, ports
            if desired.get('name'):
                names = NameStore(env.store, env.namespace)
                names.acquire(desired['name'], cid)
                created.add(lambda: names.release(desired['name'], cid))
            extra_hosts = desired_extra_hosts(desired)
            labels = build_labels(env, desired, cid, image, targets, state_dir, extra_hosts, label_mounts, anon, hostname)
            ports = []
            if desired.get('published_ports') and desired['network_type'] == 'cni':
                ports = allocate_ports(env, desired['published_ports'])
            from .ports import write_network_config
            write_network_config(state_dir, ports)
            S.set_annotations(spec, L.annotations_from_labels(labels))

            runc = client.runc_options_any(SystemdCgroup=True) if manager == 'systemd' else client.runc_options_any()
            record = client.msg('containerd.services.containers.v1.Container', id=cid, labels=labels,
                                image=image.image.name, snapshotter=params['snapshotter'], snapshot_key=cid)
            record.runtime.name = RUNTIME
            record.runtime.options.CopyFrom(runc)
            record.spec.CopyFrom(client.spec_any(spec))
            result = client.create_container(record)
        finally:
            client.delete_lease(lease)
        created.add(lambda: client.delete_container(cid))
        if desired['network_type'] in ('host', 'none'):
            env.hosts_store().acquire({'ID': cid, 'Hostname': hostname, 'ExtraHosts': _hosts_map(extra_hosts),
                                       'Name': desired.get('name') or '', 'Domainname': '', 'Networks': {}})
        return result


def _hosts_map(entries):
    result = {}
    for entry in entries or []:
        host, _sep, ip = entry.partition(':')
        result[host] = ip
    return result


def _expire():
    import datetime
    when = datetime.datetime.utcnow() + datetime.timedelta(hours=1)
    return when.strftime('%Y-%m-%dT%H:%M:%SZ')


def allocate_ports(env, published):
    """Parse `-p` entries; automatic host ports avoid the ports running containers of this namespace publish."""
    from .ports import load_port_mappings, parse_publish_list
    used = []
    client = env.client
    running = set(t.id for t in client.list_tasks() if t.status == 2)
    for rec in client.list_containers():
        if rec.id not in running:
            continue
        lbl = dict(rec.labels)
        state_dir = lbl.get(L.STATE_DIR)
        if state_dir and os.path.isdir(state_dir):
            used.extend(load_port_mappings(state_dir, lbl, lambda m: None, L.container_name(lbl), rec.id))
    return parse_publish_list(published, used_mappings=used)


# ==== remove ==============================================================================================

def remove_container(env, record, remove_volumes=False):
    """nerdctl's rm -f: stop, delete the task (poststop hook tears networking down), remove the record,
    its snapshot, state dir, hosts entry, name, and (with remove_volumes or auto-remove) anonymous volumes."""
    from .datastore import container_lock
    from .lifecycle import stop
    client = env.client
    labels = dict(record.labels)
    state_dir = labels.get(L.STATE_DIR) or env.state_dir(record.id)
    status, task = client.task_status(record.id)
    if task is not None:
        if status in ('running', 'paused', 'pausing'):
            stop(client, record, env.lifecycle_ctx(), timeout=None)
        try:
            client.delete_task(record.id)
        except NotFoundError:
            pass
    with container_lock(state_dir):
        from .reconfig import cleanup_ipc
        cleanup_ipc(record, env.lifecycle_ctx())
        try:
            client.delete_container(record.id)
        except NotFoundError:
            pass
        if record.snapshot_key and record.snapshotter:
            try:
                client.remove_snapshot(record.snapshotter, record.snapshot_key)
            except NotFoundError:
                pass
    shutil.rmtree(state_dir, ignore_errors=True)
    env.hosts_store().delete(record.id)
    name = labels.get(L.NAME)
    if name:
        try:
            NameStore(env.store, env.namespace).release(name, record.id)
        except UserError as exc:
            env.warn(str(exc))
    auto = labels.get(L.AUTO_REMOVE) == 'true'
    if remove_volumes or auto:
        anon = _json_label(labels, L.ANONYMOUS_VOLUMES, []) or []
        if anon:
            remove_anonymous_volumes(env, anon)


def remove_anonymous_volumes(env, names):
    """Delete the container's anonymous volumes (nerdctl rm -v), under the volume store flock."""
    from .volumes import volumes_root
    root = volumes_root(env.store, env.namespace)
    with store_lock(root):
        for name in names:
            if not name or '/' in name or name in ('.', '..'):
                continue
            shutil.rmtree(os.path.join(root, name), ignore_errors=True)


# ==== policy ==============================================================================================

def _container_return(env, record):
    from .info import container_info
    return container_info(env.client, record, env.params, env.warn)


def _find(env, name):
    from .resolve import find_container
    return find_container(env.client, name)


def present(module):
    """state=present: create, keep or recreate the container; returns the module result."""
    params = module.params
    desired = normalize(params)
    if not desired.get('image'):
        raise UserError('image is required when state is present')
    env = Env(module.client, params, module.warn)
    client = env.client
    client.ensure_namespace() if not module.check_mode else None
    from .image import get_image_config
    image = get_image_config(client, desired['image'], params['snapshotter'])
    targets = resolve_targets(client, desired)
    existing = _find(env, desired['name']) if desired.get('name') else None
    if existing is not None and existing.id.startswith(desired['name']) and dict(existing.labels).get(L.NAME) != desired['name']:
        existing = None
    recreate = params.get('recreate') or 'on_change'
    result = {'changed': False}
    if existing is not None:
        diffs = compare(desired, read_facts(env, existing, desired, image, targets))
        if recreate == 'always':
            diffs = diffs or [{'field': 'recreate', 'before': 'existing', 'after': 'forced'}]
        if not diffs:
            result['container'] = _container_return(env, existing)
            result['diff'] = {'before': {}, 'after': {}}
            return result
        if recreate == 'never':
            raise UserError('container %s differs from the desired configuration in: %s (recreate is never)'
                            % (desired['name'], ', '.join(d['field'] for d in diffs)))
        result['changed'] = True
        result['diff'] = {'before': dict((d['field'], d['before']) for d in diffs),
                          'after': dict((d['field'], d['after']) for d in diffs)}
        result['differences'] = diffs
        result['actions'] = ['recreate']
        if module.check_mode:
            result['container'] = _container_return(env, existing)
            return result
        status, _task = client.task_status(existing.id)
        was_running = status in ('running', 'paused', 'pausing')
        # The replaced container's anonymous volumes would be orphans nobody can name: they go with it.
        remove_container(env, existing, remove_volumes=True)
        record = create_container(env, desired, image, targets)
        if was_running:
            from .lifecycle import start
            start(client, record, env.lifecycle_ctx(desired['name']))
            result['actions'].append('start')
        result['container'] = _container_return(env, client.get_container(record.id))
        return result
    result['changed'] = True
    result['actions'] = ['create']
    after = {'exists': True, 'name': desired.get('name'), 'image': image.image.name}
    result['diff'] = {'before': {'exists': False}, 'after': after}
    # also in check mode: an unknown network fails the prediction as it would fail the real run
    ensure_network_config(env, desired, module.check_mode)
    if module.check_mode:
        result['container'] = None
        return result
    record = create_container(env, desired, image, targets)
    result['container'] = _container_return(env, client.get_container(record.id))
    return result


def ensure_network_config(env, desired, check_mode=False):
    """The default `bridge` network is created when missing; named CNI networks must exist."""
    if desired['network_type'] != 'cni':
        return
    from .network.conflist import ensure_default_network, load_networks
    names = desired.get('networks') or [DEFAULT_NETWORK]
    netconf = env.params['cni_netconf_path']
    if DEFAULT_NETWORK in names and ensure_default_network(netconf, check_mode=check_mode,
                                                         cni_path=env.params.get('cni_path')) and check_mode:
        names = [n for n in names if n != DEFAULT_NETWORK]  # it would be created: nothing to load yet
    load_networks(netconf, names, env.namespace)


def absent(module):
    """state=absent: remove the container if it exists."""
    params = module.params
    env = Env(module.client, params, module.warn)
    record = _find(env, params['name'])
    if record is None:
        return {'changed': False, 'container': None, 'diff': {'before': {'exists': False}, 'after': {'exists': False}}}
    result = {'changed': True, 'actions': ['remove'], 'container': None,
              'diff': {'before': {'exists': True, 'id': record.id, 'name': L.container_name(dict(record.labels))},
                       'after': {'exists': False}}}
    if not module.check_mode:
        remove_container(env, record, remove_volumes=bool(params.get('remove_volumes')))
    return result


def container_policy(module):
    """The containerd_container module's policy: present or absent."""
    if module.params.get('state') == 'absent':
        return absent(module)
    return present(module)
