# -*- coding: utf-8 -*-
# Copyright (c) ctrd.containerd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reconfig{Net,PID,IPC}Container spec rewriting and its error texts (nerdctl-behaviour.md §3.6, §3.15, §11)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

import pytest

from ansible_collections.ctrd.containerd.plugins.module_utils.containerd import reconfig
from ansible_collections.ctrd.containerd.plugins.module_utils.containerd.errors import NotFoundError, UserError


class Rec(object):
    def __init__(self, cid, labels=None, spec=None):
        self.id = cid
        self.labels = labels or {}
        self.spec = spec if spec is not None else {'linux': {'namespaces': [{'type': 'pid'}, {'type': 'ipc'}]}}


class Task(object):
    def __init__(self, pid):
        self.pid = pid


class FakeClient(object):
    """Only what reconfig reads: container records, task status, stored specs."""

    def __init__(self, containers, running):
        self.containers = dict((c.id, c) for c in containers)
        self.running = running

    def get_container(self, cid):
        if cid not in self.containers:
            raise NotFoundError('Containers.Get: not found: container "%s" in namespace "default"' % cid)
        return self.containers[cid]

    def task_status(self, cid):
        if cid in self.running:
            return 'running', Task(self.running[cid])
        return None, None

    @staticmethod
    def read_spec(rec):
        return rec.spec


def _spec():
    return {'linux': {'namespaces': [{'type': 'pid'}, {'type': 'ipc'}, {'type': 'network'}, {'type': 'mount'}]},
            'mounts': [{'destination': '/proc', 'type': 'proc'},
                       {'destination': '/dev/shm', 'type': 'tmpfs', 'source': 'shm',
                        'options': ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k']}]}


def _ns(spec, kind):
    return [n for n in spec['linux']['namespaces'] if n['type'] == kind]


@pytest.mark.parametrize('text, expected', [
    ('64m', 64 * 1024 ** 2), ('1024', 1024), ('512k', 512 * 1024), ('1.5g', int(1.5 * 1024 ** 3)),
    ('2MiB', 2 * 1024 ** 2), ('3 kb', 3 * 1024),
])
def test_ram_in_bytes(text, expected):
    assert reconfig.ram_in_bytes(text) == expected


def test_ram_in_bytes_error():
    with pytest.raises(UserError, match="^invalid size: 'lots'$"):
        reconfig.ram_in_bytes('lots')


def test_net_container_points_at_target_pid():
    target = Rec('t' * 64)
    client = FakeClient([target], {target.id: 4242})
    spec = _spec()
    reconfig.reconfig_net(client, {'nerdctl/networks': json.dumps(['container:' + target.id])}, spec)
    assert _ns(spec, 'network') == [{'type': 'network', 'path': '/proc/4242/ns/net'}]


def test_net_other_types_untouched():
    spec = _spec()
    reconfig.reconfig_net(FakeClient([], {}), {'nerdctl/networks': '["bridge"]'}, spec)
    reconfig.reconfig_net(FakeClient([], {}), {}, spec)
    assert spec == _spec()


def test_net_errors():
    target = Rec('t' * 64)
    with pytest.raises(UserError, match='^invalid target container: t+, should be running$'):
        reconfig.reconfig_net(FakeClient([target], {}), {'nerdctl/networks': '["container:%s"]' % target.id}, _spec())
    with pytest.raises(UserError, match=r'^invalid network: container:a:b, should be "container:<id\|name>"$'):
        reconfig.reconfig_net(FakeClient([], {}), {'nerdctl/networks': '["container:a:b"]'}, _spec())
    with pytest.raises(NotFoundError):
        reconfig.reconfig_net(FakeClient([], {}), {'nerdctl/networks': '["container:gone"]'}, _spec())


def test_pid_container():
    target = Rec('p' * 64)
    client = FakeClient([target], {target.id: 77})
    spec = _spec()
    reconfig.reconfig_pid(client, {'nerdctl/pid-container': target.id}, spec)
    assert _ns(spec, 'pid') == [{'type': 'pid', 'path': '/proc/77/ns/pid'}]


def test_pid_container_of_host_pid_target_uses_host():
    target = Rec('h' * 64, spec={'linux': {'namespaces': [{'type': 'ipc'}]}})
    spec = _spec()
    reconfig.reconfig_pid(FakeClient([target], {target.id: 77}), {'nerdctl/pid-container': target.id}, spec)
    assert _ns(spec, 'pid') == []


def test_pid_target_not_running():
    target = Rec('p' * 64)
    with pytest.raises(UserError, match='^shared container is not running$'):
        reconfig.reconfig_pid(FakeClient([target], {}), {'nerdctl/pid-container': target.id}, _spec())


def test_ipc_private_with_shm_size():
    spec = _spec()
    reconfig.reconfig_ipc(FakeClient([], {}), {'nerdctl/ipc': '{"mode":"private","shmSize":"128m"}'}, spec)
    shm = spec['mounts'][1]
    assert shm['options'][-1] == 'size=131072k' and 'size=65536k' not in shm['options']
    assert _ns(spec, 'ipc') == [{'type': 'ipc'}]


def test_ipc_host():
    spec = _spec()
    reconfig.reconfig_ipc(FakeClient([], {}), {'nerdctl/ipc': '{"mode":"host"}'}, spec)
    assert _ns(spec, 'ipc') == []
    binds = dict((m['destination'], m) for m in spec['mounts'])
    assert binds['/dev/shm']['source'] == '/dev/shm' and binds['/dev/shm']['type'] == 'bind'
    assert binds['/dev/mqueue']['options'] == ['rbind', 'nosuid', 'noexec', 'nodev']


def test_ipc_shareable_mounts_and_binds():
    mounted = []
    spec = _spec()
    reconfig.reconfig_ipc(FakeClient([], {}), {'nerdctl/ipc': '{"mode":"shareable","hostShmPath":"/s/shm","shmSize":"1m"}'},
                          spec, mount_shm=lambda path, size: mounted.append((path, size)))
    assert mounted == [('/s/shm', '1m')]
    assert spec['mounts'][1] == {'destination': '/dev/shm', 'type': 'bind', 'source': '/s/shm',
                                 'options': ['rbind', 'nosuid', 'noexec', 'nodev']}
    with pytest.raises(UserError, match='^ipc mode is shareable, but host shm path is nil$'):
        reconfig.reconfig_ipc(FakeClient([], {}), {'nerdctl/ipc': '{"mode":"shareable"}'}, _spec(), mount_shm=None)


def test_ipc_container():
    victim = Rec('v' * 64, labels={'nerdctl/ipc': '{"mode":"shareable","hostShmPath":"/v/shm"}'})
    spec = _spec()
    reconfig.reconfig_ipc(FakeClient([victim], {victim.id: 55}),
                          {'nerdctl/ipc': '{"mode":"container","victimContainerId":"%s"}' % victim.id}, spec)
    assert _ns(spec, 'ipc') == [{'type': 'ipc', 'path': '/proc/55/ns/ipc'}]
    assert spec['mounts'][1]['source'] == '/v/shm'


@pytest.mark.parametrize('victim_labels, running, message', [
    ({'nerdctl/ipc': '{"mode":"private"}'}, True, "^victim container's ipc mode is not shareable$"),
    ({'nerdctl/ipc': '{"mode":"shareable"}'}, True, "^victim container's host shm path is nil$"),
    ({'nerdctl/ipc': '{"mode":"shareable","hostShmPath":"/v"}'}, False, '^shared container is not running$'),
])
def test_ipc_container_errors(victim_labels, running, message):
    victim = Rec('v' * 64, labels=victim_labels)
    client = FakeClient([victim], {victim.id: 5} if running else {})
    with pytest.raises(UserError, match=message):
        reconfig.reconfig_ipc(client, {'nerdctl/ipc': '{"mode":"container","victimContainerId":"%s"}' % victim.id},
                              _spec())
    with pytest.raises(UserError, match='^ipc mode is container, but victim container id is nil$'):
        reconfig.reconfig_ipc(client, {'nerdctl/ipc': '{"mode":"container"}'}, _spec())


def test_ipc_container_with_host_victim():
    victim = Rec('v' * 64, labels={'nerdctl/ipc': '{"mode":"host"}'})
    spec = _spec()
    reconfig.reconfig_ipc(FakeClient([victim], {victim.id: 5}),
                          {'nerdctl/ipc': '{"mode":"container","victimContainerId":"%s"}' % victim.id}, spec)
    assert _ns(spec, 'ipc') == []


def test_decode_ipc_default_private():
    assert reconfig.decode_ipc({}) == {'mode': 'private'}
    assert reconfig.decode_ipc({'nerdctl/ipc': ''}) == {'mode': 'private'}
