# -*- coding: utf-8 -*-
# Copyright (c) ctrd.containerd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""nerdctl's default network file and network lookup by name or ID."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os

import pytest

from ansible_collections.ctrd.containerd.plugins.module_utils.containerd.errors import UserError
from ansible_collections.ctrd.containerd.plugins.module_utils.containerd.network import conflist

# What nerdctl v2 writes to /etc/cni/net.d/nerdctl-bridge.conflist (firewall plugin >= 1.1.0).
NERDCTL_DEFAULT = """{
  "cniVersion": "1.0.0",
  "name": "bridge",
  "nerdctlID": "17f29b073143d8cd97b5bbe492bdeffec1c5fee55cc1fe2112c8b9335f8b6121",
  "nerdctlLabels": {
    "nerdctl/default-network": "true"
  },
  "plugins": [
    {
      "type": "bridge",
      "bridge": "nerdctl0",
      "isGateway": true,
      "ipMasq": true,
      "hairpinMode": true,
      "ipam": {
        "ranges": [
          [
            {
              "gateway": "10.4.0.1",
              "subnet": "10.4.0.0/24"
            }
          ]
        ],
        "routes": [
          {
            "dst": "0.0.0.0/0"
          }
        ],
        "type": "host-local"
      }
    },
    {
      "type": "portmap",
      "capabilities": {
        "portMappings": true
      }
    },
    {
      "type": "firewall",
      "ingressPolicy": "same-bridge"
    },
    {
      "type": "tuning"
    }
  ]
}"""


def write(path, obj):
    with open(path, 'w') as f:
        f.write(obj if isinstance(obj, str) else json.dumps(obj))


def test_default_network_is_byte_identical_to_nerdctls():
    assert conflist.render(conflist.default_network_config()) == NERDCTL_DEFAULT


def test_network_id_is_sha256_of_name():
    assert conflist.network_id('bridge') == '17f29b073143d8cd97b5bbe492bdeffec1c5fee55cc1fe2112c8b9335f8b6121'


def test_ensure_default_network_writes_once(tmp_path):
    netconf = str(tmp_path / 'net.d')
    assert conflist.ensure_default_network(netconf) is True
    path = os.path.join(netconf, 'nerdctl-bridge.conflist')
    with open(path) as f:
        assert json.load(f)['plugins'][0]['bridge'] == 'nerdctl0'
    assert oct(os.stat(path).st_mode & 0o777) == '0o644'
    assert conflist.ensure_default_network(netconf) is False
    assert os.listdir(netconf) == ['nerdctl-bridge.conflist']


def test_ensure_default_network_check_mode_writes_nothing(tmp_path):
    netconf = str(tmp_path)
    assert conflist.ensure_default_network(netconf, check_mode=True) is True
    assert os.listdir(netconf) == []


def test_any_network_named_bridge_counts_as_default(tmp_path):
    write(str(tmp_path / '10-mine.conflist'), {'cniVersion': '1.0.0', 'name': 'bridge', 'plugins': [{'type': 'bridge'}]})
    assert conflist.ensure_default_network(str(tmp_path)) is False


def test_custom_subnet(tmp_path):
    conflist.ensure_default_network(str(tmp_path), subnet='10.88.5.0/24')
    conf = conflist.load_networks(str(tmp_path), ['bridge'])[0].conf
    assert conf['plugins'][0]['ipam']['ranges'] == [[{'gateway': '10.88.5.1', 'subnet': '10.88.5.0/24'}]]


def test_load_networks_in_requested_order_by_name_id_and_short_id(tmp_path):
    for name in ('a', 'b', 'c'):
        conf = conflist.default_network_config('10.9.%d.0/24' % ord(name), 'br-' + name, name)
        write(str(tmp_path / ('nerdctl-%s.conflist' % name)), conflist.render(conf))
    nets = conflist.load_networks(str(tmp_path), ['c', conflist.network_id('a'), conflist.network_id('b')[:12]])
    assert [n.name for n in nets] == ['c', 'a', 'b']
    assert nets[0].raw.startswith(b'{')
    assert nets[0].cni_version == '1.0.0'


def test_unknown_network_is_nerdctls_error(tmp_path):
    conflist.ensure_default_network(str(tmp_path))
    with pytest.raises(UserError, match='^no such network: "nope"$'):
        conflist.load_networks(str(tmp_path), ['bridge', 'nope'])


def test_single_plugin_conf_becomes_a_list(tmp_path):
    write(str(tmp_path / '10-old.conf'), {'cniVersion': '0.4.0', 'name': 'old', 'type': 'bridge', 'bridge': 'cni0'})
    net = conflist.load_networks(str(tmp_path), ['old'])[0]
    assert net.plugins == [{'cniVersion': '0.4.0', 'name': 'old', 'type': 'bridge', 'bridge': 'cni0'}]
    assert json.loads(net.raw.decode())['plugins'][0]['type'] == 'bridge'


def test_namespaced_networks_are_found_only_in_their_namespace(tmp_path):
    os.makedirs(str(tmp_path / 'ns1'))
    conf = conflist.default_network_config('10.9.1.0/24', 'br-n', 'nsnet')
    write(str(tmp_path / 'ns1' / 'nerdctl-nsnet.conflist'), conflist.render(conf))
    assert conflist.load_networks(str(tmp_path), ['nsnet'], namespace='ns1')[0].name == 'nsnet'
    with pytest.raises(UserError):
        conflist.load_networks(str(tmp_path), ['nsnet'], namespace='other')


def test_broken_file_is_reported(tmp_path):
    write(str(tmp_path / 'x.conflist'), '{not json')
    with pytest.raises(UserError, match='error parsing configuration list'):
        conflist.load_networks(str(tmp_path), ['x'])
