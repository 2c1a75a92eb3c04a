# -*- coding: utf-8 -*-
# Copyright (c) ctrd.containerd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The CNI runtime: plugin stdin/env, chaining, DEL order, the libcni result cache and error texts.

The plugins here are fake executables that record what they were given, so the protocol side is
checked without touching the host's network.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import json
import os
import stat
import sys

import pytest

from ansible_collections.ctrd.containerd.plugins.module_utils.containerd.network import cni as C
from ansible_collections.ctrd.containerd.plugins.module_utils.containerd.network.conflist import NetworkConfig

FAKE = r'''#!%(python)s
import json, os, sys
conf = json.load(sys.stdin)
name = os.path.basename(sys.argv[0])
with open(os.path.join(%(log)r), 'a') as f:
    f.write(json.dumps({'plugin': name, 'conf': conf, 'env': {k: v for k, v in os.environ.items() if k.startswith('CNI_')}}) + '\n')
if conf.get('fail'):
    print(json.dumps({'code': 11, 'msg': conf['fail'], 'details': 'more'}))
    sys.exit(1)
if os.environ['CNI_COMMAND'] == 'ADD':
    prev = conf.get('prevResult') or {'cniVersion': conf['cniVersion'], 'ips': []}
    prev.setdefault('chain', []).append(name)
    if name == 'ipam-ish':
        prev['ips'] = [{'address': '10.9.0.2/24'}]
    print(json.dumps(prev))
'''


@pytest.fixture
def plugins(tmp_path):
    bindir = tmp_path / 'bin'
    bindir.mkdir()
    log = str(tmp_path / 'calls.jsonl')
    for name in ('ipam-ish', 'portmap', 'tuning'):
        path = bindir / name
        path.write_text(FAKE % {'python': sys.executable, 'log': log})
        path.chmod(path.stat().st_mode | stat.S_IXUSR)

    def calls():
        if not os.path.exists(log):
            return []
        with open(log) as f:
            return [json.loads(line) for line in f]
    return str(bindir), calls


def network(name='n1', plugins=None):
    conf = {'cniVersion': '1.0.0', 'name': name, 'plugins': plugins or [
        {'type': 'ipam-ish', 'bridge': 'x'},
        {'type': 'portmap', 'capabilities': {'portMappings': True}},
        {'type': 'tuning'},
    ]}
    return NetworkConfig(conf, json.dumps(conf).encode(), '/dev/null')


PORTS = [{'HostPort': 8080, 'ContainerPort': 80, 'Protocol': 'tcp', 'HostIP': '0.0.0.0'}]


def test_container_id_and_interface_names():
    assert C.cni_container_id('default', 'abc') == 'default-abc'
    assert [C.interface_name(i) for i in range(3)] == ['eth0', 'eth1', 'eth2']


def test_plugin_stdin_injects_name_version_prev_result_and_only_declared_capabilities():
    plugin = {'type': 'portmap', 'capabilities': {'portMappings': True}}
    conf = json.loads(C.plugin_stdin(plugin, 'net', '1.0.0', {'ips': []}, {'portMappings': [1], 'ips': ['x']}).decode())
    assert conf == {'type': 'portmap', 'capabilities': {'portMappings': True}, 'name': 'net', 'cniVersion': '1.0.0',
                    'prevResult': {'ips': []}, 'runtimeConfig': {'portMappings': [1]}}
    bare = json.loads(C.plugin_stdin({'type': 'tuning'}, 'net', '1.0.0', None, {'portMappings': [1]}).decode())
    assert 'runtimeConfig' not in bare and 'prevResult' not in bare


def test_net_options_args_and_capabilities():
    opts = C.NetOptions(port_mappings=PORTS, ip='10.4.0.9', mac='02:42:ac:11:00:02', ip6='fd00::9', hostname='web')
    assert C.format_args(opts.args()) == 'IgnoreUnknown=1;IP=10.4.0.9;MAC=02:42:ac:11:00:02;NERDCTL_CNI_DHCP_HOSTNAME=web'
    assert opts.capability_args() == {
        'portMappings': [{'hostPort': 8080, 'containerPort': 80, 'protocol': 'tcp', 'hostIP': '0.0.0.0'}],
        'ips': ['fd00::9'],
    }
    assert C.NetOptions().capability_args() == {}


def test_plugin_env():
    env = C.plugin_env('DEL', 'ns-id', '', 'eth1', [('A', '1')], '/opt/cni/bin', base_env={'PATH': '/bin'})
    assert env == {'PATH': '/bin', 'CNI_COMMAND': 'DEL', 'CNI_CONTAINERID': 'ns-id', 'CNI_NETNS': '',
                   'CNI_IFNAME': 'eth1', 'CNI_ARGS': 'A=1', 'CNI_PATH': '/opt/cni/bin'}


def test_setup_chains_results_caches_them_and_remove_replays_in_reverse(plugins, tmp_path):
    bindir, calls = plugins
    cache = str(tmp_path / 'cache')
    runtime = C.CNI(bindir, cache_dir=cache)
    opts = C.NetOptions(port_mappings=PORTS, hostname='h')
    results = runtime.setup([network('n1'), network('n2')], 'ns-cid', '/proc/1/ns/net', opts)

    assert [r['chain'] for r in results] == [['ipam-ish', 'portmap', 'tuning']] * 2
    adds = calls()
    assert [(c['plugin'], c['env']['CNI_IFNAME']) for c in adds] == [
        ('ipam-ish', 'eth0'), ('portmap', 'eth0'), ('tuning', 'eth0'), ('ipam-ish', 'eth1'), ('portmap', 'eth1'), ('tuning', 'eth1')]
    assert adds[1]['conf']['prevResult']['chain'] == ['ipam-ish']
    assert adds[1]['conf']['runtimeConfig']['portMappings'][0]['hostPort'] == 8080
    assert 'runtimeConfig' not in adds[2]['conf']
    assert adds[0]['env']['CNI_CONTAINERID'] == 'ns-cid' and adds[0]['env']['CNI_NETNS'] == '/proc/1/ns/net'
    assert adds[0]['env']['CNI_ARGS'] == 'IgnoreUnknown=1;NERDCTL_CNI_DHCP_HOSTNAME=h'

    cached_path = os.path.join(cache, 'results', 'n1-ns-cid-eth0')
    with open(cached_path) as f:
        cached = json.load(f)
    assert cached['kind'] == 'cniCacheV1' and cached['ifName'] == 'eth0' and cached['networkName'] == 'n1'
    assert json.loads(base64.b64decode(cached['config']))['name'] == 'n1'
    assert cached['result']['ips'] == [{'address': '10.9.0.2/24'}]

    runtime.remove([network('n1'), network('n2')], 'ns-cid', '', opts)
    dels = calls()[len(adds):]
    assert [(c['plugin'], c['env']['CNI_IFNAME']) for c in dels] == [
        ('tuning', 'eth0'), ('portmap', 'eth0'), ('ipam-ish', 'eth0'), ('tuning', 'eth1'), ('portmap', 'eth1'), ('ipam-ish', 'eth1')]
    assert all(c['env']['CNI_COMMAND'] == 'DEL' and c['env']['CNI_NETNS'] == '' for c in dels)
    assert dels[0]['conf']['prevResult']['ips'] == [{'address': '10.9.0.2/24'}]
    assert os.listdir(os.path.join(cache, 'results')) == []


def test_plugin_error_text_and_missing_plugin(plugins, tmp_path):
    bindir, _calls = plugins
    runtime = C.CNI(bindir, cache_dir=str(tmp_path))
    bad = network('n1', [{'type': 'ipam-ish', 'fail': 'boom'}])
    with pytest.raises(C.CNIError, match=r'^plugin type="ipam-ish" name="n1" failed \(add\): boom; more$'):
        runtime.setup([bad], 'x', '/proc/1/ns/net')
    with pytest.raises(C.CNIError, match=r'^failed to find plugin "bridge" in path \[%s\]$' % bindir):
        runtime.setup([network('n1', [{'type': 'bridge'}])], 'x', '/proc/1/ns/net')


def test_remove_tolerates_not_found_like_go_cni(plugins, tmp_path):
    bindir, _calls = plugins
    runtime = C.CNI(bindir, cache_dir=str(tmp_path))
    runtime.remove([network('n1', [{'type': 'ipam-ish', 'fail': 'link not found'}])], 'x', '')
    with pytest.raises(C.CNIError, match='permission denied'):
        runtime.remove([network('n1', [{'type': 'ipam-ish', 'fail': 'permission denied'}])], 'x', '')


def test_cni_lock_creates_nerdctls_lock_file(tmp_path):
    with C.cni_lock(str(tmp_path / 'net.d')):
        assert os.path.exists(str(tmp_path / 'net.d' / '.cni-concurrency.lock'))
