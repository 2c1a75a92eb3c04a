# -*- coding: utf-8 -*-
# Copyright (c) ctrd.containerd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Create a container the way `nerdctl create` does, over containerd's API.

nerdctl's other tools find a container through what create leaves behind, so all of it is written: the state
dir with resolv.conf, hostname and network-config.json, the hosts store entry, the names store, the volumes,
nerdctl's labels (copied into OCI annotations for the network hook), the snapshot and the container record.
Every step registers its undo, so a failed create leaves nothing that would block the next attempt.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import shutil

from . import labels as L
from . import spec as S
from .datastore import NameStore, store_lock
from .desired import DEFAULT_NETWORK, RESTART_POLICIES, desired_extra_hosts, parse_restart_policy, restart_label
from .errors import UserError
from .extrahosts import extra_hosts_map
from .image import Lease
from .netfiles import network_files
from .network.conflist import ensure_default_network, load_networks
from .network.install import install_hook, spec_hooks
from .oci_archive import platform_string
from .ports import load_port_mappings, parse_publish_list, write_network_config
from .reconfig import reconfig_ipc, reconfig_pid
from .rootfs import read_rootfs_file
from .volumes import mounts_labels, new_volume_id, parse_volume

RUNTIME = 'io.containerd.runc.v2'
# containerd 1.6/1.7 register the restart monitor as an internal plugin, 2.x as a container monitor.
RESTART_PLUGIN_TYPES = ('io.containerd.internal.v1', 'io.containerd.monitor.v1', 'io.containerd.monitor.container.v1')


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


def ensure_network_config(env, desired, check_mode=False):
    """The default `bridge` network is created when missing; named CNI networks must exist."""
    if desired['network_type'] != 'cni':
        return
    names = desired.get('networks') or [DEFAULT_NETWORK]
    netconf = env.params['cni_netconf_path']
    if DEFAULT_NETWORK in names:
        written = ensure_default_network(netconf, check_mode=check_mode, cni_path=env.params.get('cni_path'))
        if written and check_mode:
            names = [n for n in names if n != DEFAULT_NETWORK]  # it would be created: nothing to load yet
    load_networks(netconf, names, env.namespace)


def create_container(env, desired, image, targets):
    """nerdctl's create over containerd's API; returns the new container record."""
    cid = new_volume_id()  # containers and anonymous volumes get the same kind of ID
    created = Created()
    try:
        return _create(env, desired, image, targets, cid, created)
    except BaseException:
        created.rollback(env.warn)
        raise


def _create(env, desired, image, targets, cid, created):
    """The steps of create_container, in nerdctl's order, under the volume store lock nerdctl holds throughout."""
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
        with Lease(client) as lease:
            mounts = client.prepare_snapshot(params['snapshotter'], cid, image.chain_id, lease=lease.id)
            created.add(lambda: client.remove_snapshot(params['snapshotter'], cid))
            userdb = S.UserDB(read_rootfs_file(mounts, '/etc/passwd'), read_rootfs_file(mounts, '/etc/group'))
            S.apply_image_config(spec, config, args, userdb)
            if desired.get('read_only'):
                spec['root']['readonly'] = True
            if desired.get('working_dir'):
                spec['process']['cwd'] = desired['working_dir']

            # volumes
            user_mounts = parse_volumes(env, desired.get('volumes'))
            user_mounts.extend(parse_volumes(env, image_volume_mounts(image, user_mounts)))
            anon = [m['anonymous_volume'] for m in user_mounts if m['anonymous_volume']]
            spec['mounts'].extend(m['oci_mount'] for m in user_mounts)
            apply_rootfs_propagation(spec, [m['rootfs_propagation'] for m in user_mounts])
            label_mounts = [m['mount'] for m in user_mounts]

            # networking files, env with HOSTNAME, hooks
            hostname = network_files(env, desired, cid, state_dir, targets, spec, created)
            S.set_env(spec, list(desired.get('env') or []) + ['HOSTNAME=' + hostname])
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
            labels = build_labels(env, desired, image, targets, state_dir, extra_hosts, label_mounts, anon, hostname)
            ports = []
            if desired.get('published_ports') and desired['network_type'] == 'cni':
                ports = allocate_ports(env, desired['published_ports'])
            write_network_config(state_dir, ports)
            S.set_annotations(spec, L.annotations_from_labels(labels))

            runc = client.runc_options_any(SystemdCgroup=True) if manager == 'systemd' else client.runc_options_any()
            record = client.msg('containerd.services.containers.v1.Container', id=cid, labels=labels,
                                image=image.image.name, snapshotter=params['snapshotter'], snapshot_key=cid)
            record.runtime.name = RUNTIME
            record.runtime.options.CopyFrom(runc)
            record.spec.CopyFrom(client.spec_any(spec))
            result = client.create_container(record)
        created.add(lambda: client.delete_container(cid))
        if desired['network_type'] in ('host', 'none'):
            env.hosts_store().acquire({'ID': cid, 'Hostname': hostname, 'ExtraHosts': extra_hosts_map(extra_hosts),
                                       'Name': desired.get('name') or '', 'Domainname': '', 'Networks': {}})
        return result


def build_labels(env, desired, image, targets, state_dir, extra_hosts, mounts, anon_volumes, hostname):
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
    """The nerdctl/platform label: the image config's platform, linux/amd64 where the config names none."""
    config = image.config or {}
    return platform_string({'os': config.get('os') or 'linux', 'architecture': config.get('architecture') or 'amd64',
                            'variant': config.get('variant')})


def ipc_label(desired, targets, state_dir):
    """The nerdctl/ipc label (JSON): the mode, the shm path of a shareable one, the ID of a joined container."""
    kind = (desired.get('ipc_mode') or ('private', None))[0] or 'private'
    value = {'mode': kind}
    if kind == 'shareable':
        value['hostShmPath'] = os.path.join(state_dir, 'shm')
    elif kind == 'container':
        value['victimContainerId'] = targets['ipc']
    return json.dumps(value, separators=(',', ':'))


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


def image_volume_mounts(image, user_mounts):
    """Anonymous volumes for the image's VOLUMEs that the user did not mount elsewhere (nerdctl does this)."""
    dests = set(m['mount']['Destination'] for m in user_mounts)
    extra = []
    for path in sorted(((image.config.get('config') or {}).get('Volumes') or {}).keys()):
        if path not in dests:
            extra.append(path)
    return extra


def parse_volumes(env, volumes):
    """nerdctl's -v for each entry (volumes are created): parse_volume results, in order."""
    return [parse_volume(text, env.store, env.namespace, warn=env.warn) for text in volumes or []]


def allocate_ports(env, published):
    """Parse `-p` entries; automatic host ports avoid the ports running containers of this namespace publish."""
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
