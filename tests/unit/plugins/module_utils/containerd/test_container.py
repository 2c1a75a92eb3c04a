# -*- coding: utf-8 -*-
# Copyright (c) ctrd.containerd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""containerd_container's pure logic: option normalisation, nerdctl's texts, and the comparison with a container."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.ctrd.containerd.plugins.module_utils.containerd import compare as C
from ansible_collections.ctrd.containerd.plugins.module_utils.containerd import desired as D
from ansible_collections.ctrd.containerd.plugins.module_utils.containerd import netfiles as N
from ansible_collections.ctrd.containerd.plugins.module_utils.containerd.errors import UserError


def params(**kw):
    base = dict(name='web', image='busybox')
    base.update(kw)
    return base


def test_internal_labels_are_refused():
    with pytest.raises(UserError, match='internal label "nerdctl/x" must not be specified manually'):
        D.normalize(params(labels={'nerdctl/x': 'y'}))


def test_mixed_network_types_are_refused():
    with pytest.raises(UserError, match='^mixed network types: host and cni$'):
        D.normalize(params(networks=['host', 'bridge']))


def test_container_network_conflicts_with_ports_and_hostname():
    with pytest.raises(UserError, match=r'not supported when using `--network=container:<container>`: \[--hostname -p/--publish\]'):
        D.normalize(params(networks=['container:db'], hostname='h', published_ports=['80']))


@pytest.mark.parametrize('policy,label', [('no', None), ('always', 'always'), ('on-failure', 'on-failure'),
                                          ('on-failure:0', 'on-failure'), ('on-failure:3', 'on-failure:3'),
                                          ('unless-stopped', 'unless-stopped')])
def test_restart_label(policy, label):
    assert D.restart_label(policy) == label


@pytest.mark.parametrize('policy,text', [('sometimes', 'restart policy "sometimes" not supported'),
                                         ('always:3', 'restart policy "always:3" not support max retry count'),
                                         ('on-failure:x', 'invalid max retry count: x')])
def test_restart_policy_errors(policy, text):
    with pytest.raises(UserError) as exc:
        D.parse_restart_policy(policy)
    assert str(exc.value) == text


def test_bad_pid_mode():
    with pytest.raises(UserError, match=r'invalid pid namespace. Set --pid=\[host\|container:<name\|id>'):
        D.normalize(params(pid_mode='private'))


def test_env_dict_keeps_order_and_null_unsets():
    assert D.env_list({'B': 2, 'A': None, 'C': True}) == ['B=2', 'A', 'C=true']


@pytest.mark.parametrize('specs,ok', [
    (['127.0.0.1:8080:80', '81/udp'], True),
    (['127.0.0.1:8080:80/TCP', '81/udp'], True),
    (['127.0.0.1:8081:80', '81/udp'], False),
    (['8080:80', '81/udp'], False),
    (['127.0.0.1:8080:80'], False),
])
def test_ports_match(specs, ok):
    recorded = [{'HostPort': 8080, 'ContainerPort': 80, 'Protocol': 'tcp', 'HostIP': '127.0.0.1'},
                {'HostPort': 49153, 'ContainerPort': 81, 'Protocol': 'udp', 'HostIP': '0.0.0.0'}]
    assert C.ports_match(specs, recorded) is ok


def test_resolv_conf_for_cni_drops_localhost_and_ipv6():
    host = 'search example.com\nnameserver 127.0.0.53\nnameserver 2001:db8::1\noptions edns0\n'
    # nerdctl adds Google's servers only when no server is left after dropping localhost, then keeps IPv4 only
    assert N.build_resolv_conf(host, 'cni') == 'search example.com\noptions edns0\n'
    assert N.build_resolv_conf('nameserver 127.0.0.1\n', 'cni') == 'nameserver 8.8.8.8\nnameserver 8.8.4.4\n'
    assert N.build_resolv_conf(host, 'host') == 'search example.com\nnameserver 127.0.0.53\nnameserver 2001:db8::1\noptions edns0\n'


def facts(**kw):
    base = {
        'labels': {'nerdctl/hostname': 'abc', 'nerdctl/networks': '["bridge"]', 'app': 'x', 'org.img': 'y',
                   'containerd.io/restart.status': 'running', 'io.containerd.image.config.stop-signal': 'SIGTERM',
                   'nerdctl/ipc': '{"mode":"private"}', 'nerdctl/auto-remove': 'false'},
        'spec': {'process': {'args': ['sh'], 'env': ['HOSTNAME=abc', 'PATH=/bin', 'A=1'], 'cwd': '/'},
                 'root': {'path': 'rootfs'}, 'linux': {'namespaces': [{'type': 'pid'}]}},
        'record_image': 'busybox', 'image_name': 'busybox', 'image_chain': 'sha256:c', 'snapshot_parent': 'sha256:c',
        'image_config': {'config': {'Env': ['PATH=/bin'], 'Cmd': ['sh'], 'Labels': {'org.img': 'y'}}},
        'ports': [], 'volumes': [], 'net_target': None, 'pid_target': None, 'ipc_target': None,
    }
    base.update(kw)
    return base


def fields(desired, f):
    return [d['field'] for d in C.compare(D.normalize(desired), f)]


def test_same_configuration_has_no_differences():
    desired = params(env={'A': '1'}, labels={'app': 'x'}, command=['sh'], networks=['bridge'], working_dir='/',
                     read_only=False, restart_policy='no', auto_remove=False, ipc_mode='private', stop_signal='TERM')
    f = facts()
    f['labels']['io.containerd.image.config.stop-signal'] = 'TERM'
    assert fields(desired, f) == []


def test_env_order_does_not_matter_but_values_do():
    f = facts()
    f['spec']['process']['env'] = ['A=1', 'PATH=/bin', 'HOSTNAME=abc']
    assert fields(params(env={'A': '1'}), f) == []
    assert fields(params(env={'A': '2'}), f) == ['env']


def test_every_differing_option_is_named():
    desired = params(env={'A': '2'}, labels={'app': 'z'}, command=['true'], working_dir='/w', read_only=True,
                     restart_policy='always', auto_remove=True, networks=['none'], hostname='h', pid_mode='host')
    assert fields(desired, facts()) == ['command', 'env', 'labels', 'working_dir', 'hostname', 'networks', 'read_only',
                                        'restart_policy', 'pid_mode', 'auto_remove']


def test_a_retagged_image_is_a_difference():
    assert fields(params(), facts(snapshot_parent='sha256:old')) == ['image']
    assert fields(params(), facts(record_image='other')) == ['image']


def test_unset_options_are_not_compared():
    assert fields(params(), facts(ports=[{'HostPort': 1, 'ContainerPort': 2, 'Protocol': 'tcp', 'HostIP': '0.0.0.0'}])) == []


def test_volumes_compare_by_meaning():
    anon = 'a' * 64
    f = facts(volumes=[{'type': 'volume', 'name': anon, 'source': '/x', 'destination': '/scratch', 'mode': ''},
                       {'type': 'volume', 'name': 'data', 'source': '/v', 'destination': '/data', 'mode': 'ro'}])
    f['labels']['nerdctl/anonymous-volumes'] = '["%s"]' % anon
    assert fields(params(volumes=['/scratch/', 'data:/data/:ro']), f) == []
    assert fields(params(volumes=['/scratch', 'data:/data']), f) == ['volumes']
