# -*- coding: utf-8 -*-
# Copyright (c) ctrd.containerd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""CNI network configuration lists: nerdctl's default `bridge` network and lookup by name or nerdctl ID.

nerdctl keeps its networks as `nerdctl-<name>.conflist` files in the CNI netconf directory (namespaced
networks in `<netconfpath>/<namespace>/`).  Writing the default network byte-for-byte as nerdctl does
means nerdctl and this collection share it, and a container created by either joins the same bridge.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import hashlib
import ipaddress
import json
import os
import re
import subprocess

from ..errors import UserError

DEFAULT_NETWORK_NAME = 'bridge'
DEFAULT_BRIDGE = 'nerdctl0'
DEFAULT_SUBNET = '10.4.0.0/24'
DEFAULT_NETWORK_LABEL = 'nerdctl/default-network'
CONF_EXTENSIONS = ('.conf', '.conflist', '.json')


def network_id(name):
    """nerdctl's network ID: the hex SHA-256 of the network name."""
    return hashlib.sha256(name.encode('utf-8')).hexdigest()


def conffile_path(netconf_path, name, namespace=None):
    """Where nerdctl keeps the conflist of network <name> (the default network is never namespaced)."""
    if name == DEFAULT_NETWORK_NAME or not namespace:
        return os.path.join(netconf_path, 'nerdctl-%s.conflist' % name)
    return os.path.join(netconf_path, namespace, 'nerdctl-%s.conflist' % name)


def _firewall_supports_ingress_policy(cni_path):
    """nerdctl sets ingressPolicy=same-bridge when the firewall plugin is >= 1.1.0.

    The plugin prints its version on stderr when run without CNI_COMMAND.  Distribution builds say
    `version unknown`; those are all recent enough (the option dates from 2022), so they count as new.
    """
    if not cni_path:
        return True
    for directory in cni_path.split(':'):
        binary = os.path.join(directory, 'firewall')
        if not os.access(binary, os.X_OK):
            continue
        try:
            proc = subprocess.run([binary], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  env={}, timeout=10, check=False)
        except (OSError, subprocess.SubprocessError):
            return True
        match = re.search(r'plugin v(\d+)\.(\d+)', (proc.stderr + proc.stdout).decode('utf-8', 'replace'))
        if not match:
            return True
        return (int(match.group(1)), int(match.group(2))) >= (1, 1)
    return True


def default_network_config(subnet=DEFAULT_SUBNET, bridge=DEFAULT_BRIDGE, name=DEFAULT_NETWORK_NAME, ingress_policy=True):
    """The conflist object nerdctl writes for its default network (gateway = first host of the subnet)."""
    net = ipaddress.ip_network(subnet, strict=True)
    gateway = str(next(net.hosts()))
    firewall = {'type': 'firewall'}
    if ingress_policy:
        firewall['ingressPolicy'] = 'same-bridge'
    return {
        'cniVersion': '1.0.0',
        'name': name,
        'nerdctlID': network_id(name),
        'nerdctlLabels': {DEFAULT_NETWORK_LABEL: 'true'},
        'plugins': [
            {
                'type': 'bridge',
                'bridge': bridge,
                'isGateway': True,
                'ipMasq': True,
                'hairpinMode': True,
                # nerdctl marshals the IPAM section from a map, hence the sorted keys.
                'ipam': {
                    'ranges': [[{'gateway': gateway, 'subnet': str(net)}]],
                    'routes': [{'dst': '0.0.0.0/0'}],
                    'type': 'host-local',
                },
            },
            {'type': 'portmap', 'capabilities': {'portMappings': True}},
            firewall,
            {'type': 'tuning'},
        ],
    }


def render(conf):
    """Serialise a conflist as nerdctl does (Go's MarshalIndent with two spaces, no trailing newline)."""
    return json.dumps(conf, indent=2, separators=(',', ': '))


class NetworkConfig(object):
    """One parsed network: its conflist object, the raw bytes CNI plugins are fed from, and its file."""

    def __init__(self, conf, raw, path):
        self.conf = conf
        self.raw = raw
        self.path = path

    @property
    def name(self):
        return self.conf.get('name', '')

    @property
    def cni_version(self):
        return self.conf.get('cniVersion', '')

    @property
    def plugins(self):
        return self.conf.get('plugins', [])

    @property
    def nerdctl_id(self):
        return self.conf.get('nerdctlID')

    @property
    def labels(self):
        return self.conf.get('nerdctlLabels') or {}

    def matches(self, key):
        """nerdctl's NetworkByNameOrID: the name, the full nerdctl ID, or its 12-character short form."""
        if self.name == key:
            return True
        nid = self.nerdctl_id
        return bool(nid) and key in (nid, nid[:12])


def _conf_files(directory):
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    return [os.path.join(directory, n) for n in names
            if n.endswith(CONF_EXTENSIONS) and os.path.isfile(os.path.join(directory, n))]


def _parse(path):
    """Read one .conf/.conflist/.json file; a single-plugin .conf becomes a one-plugin list as libcni does."""
    with open(path, 'rb') as f:
        raw = f.read()
    try:
        conf = json.loads(raw.decode('utf-8'))
    except ValueError as exc:
        raise UserError('error parsing configuration list: %s: %s' % (path, exc))
    if not isinstance(conf, dict):
        raise UserError('error parsing configuration list: %s: not a JSON object' % path)
    if not path.endswith('.conflist') and 'plugins' not in conf:
        plugin = dict(conf)
        conf = {'cniVersion': plugin.get('cniVersion', ''), 'name': plugin.get('name', ''), 'plugins': [plugin]}
        raw = json.dumps(conf).encode('utf-8')
    if not conf.get('name'):
        raise UserError('error parsing configuration list: no name')
    if not isinstance(conf.get('plugins'), list) or not conf['plugins']:
        raise UserError('error parsing configuration list: no plugins in list')
    return NetworkConfig(conf, raw, path)


def list_networks(netconf_path, namespace=None):
    """Every network in the netconf dir (plus the namespace's subdir), in nerdctl's file-name order."""
    files = _conf_files(netconf_path)
    if namespace:
        files += _conf_files(os.path.join(netconf_path, namespace))
    return [_parse(path) for path in sorted(files)]


def find_network(networks, key):
    for net in networks:
        if net.matches(key):
            return net
    return None


def load_networks(netconf_path, names, namespace=None):
    """The networks named (by name or nerdctl ID) in `names`, in that order; nerdctl's error for an unknown one."""
    networks = list_networks(netconf_path, namespace)
    result = []
    for key in names:
        net = find_network(networks, key)
        if net is None:
            raise UserError('no such network: "%s"' % key)
        result.append(net)
    return result


def default_network_exists(netconf_path):
    """nerdctl's test: a network labelled as the default one, else any network named `bridge`."""
    networks = list_networks(netconf_path)
    return any(DEFAULT_NETWORK_LABEL in n.labels for n in networks) or any(n.name == DEFAULT_NETWORK_NAME for n in networks)


def ensure_default_network(netconf_path, subnet=DEFAULT_SUBNET, check_mode=False, cni_path=None, bridge=DEFAULT_BRIDGE):
    """Write nerdctl's default `bridge` network when no default network exists; return whether it did (would)."""
    if default_network_exists(netconf_path):
        return False
    path = conffile_path(netconf_path, DEFAULT_NETWORK_NAME)
    if os.path.exists(path):
        raise UserError('already found existing network config at "%s", cannot create new network named "%s"'
                        % (path, DEFAULT_NETWORK_NAME))
    if check_mode:
        return True
    content = render(default_network_config(subnet, bridge, ingress_policy=_firewall_supports_ingress_policy(cni_path)))
    if not os.path.isdir(netconf_path):
        os.makedirs(netconf_path, 0o755)
    tmp = '%s.tmp-%d' % (path, os.getpid())
    with open(tmp, 'w') as f:
        f.write(content)
    os.chmod(tmp, 0o644)
    try:
        # link() fails if a concurrent writer got there first, which keeps their file intact.
        os.link(tmp, path)
    except OSError:
        if not os.path.exists(path):
            raise
        return False
    finally:
        os.unlink(tmp)
    return True
