# -*- coding: utf-8 -*-
# Copyright (c) ctrd.containerd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What CNI needs to know about one container, read from its spec annotations and state dir.

The OCI hook and the explicit stop/kill cleanup must pass CNI exactly the same networks, container id,
arguments and port mappings, or DEL would not undo what ADD did; both build them here.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

from .. import labels as L
from ..errors import UserError
from .cni import NetOptions, cni_container_id
from .conflist import ensure_default_network, load_networks
from ..extrahosts import extra_hosts_map
from ..netopts import CNI, network_type as detect


class ContainerNet(object):
    """The network view of one container: its CNI id, type, loaded conflists and CNI options."""

    def __init__(self, container_id, namespace, networks, net_type, confs, options):
        self.container_id = container_id
        self.namespace = namespace
        self.networks = networks
        self.net_type = net_type
        self.confs = confs
        self.options = options

    @property
    def cni_id(self):
        return cni_container_id(self.namespace, self.container_id)

    @property
    def is_cni(self):
        return self.net_type == CNI


def parse_networks(annotations):
    """The `nerdctl/networks` annotation (a JSON array); a missing or bad value is a JSON error, as in nerdctl."""
    text = annotations.get(L.NETWORKS, '')
    try:
        networks = json.loads(text)
    except ValueError as exc:
        raise UserError('invalid %s annotation %r: %s' % (L.NETWORKS, text, exc))
    if not isinstance(networks, list) or not all(isinstance(n, str) for n in networks):
        raise UserError('invalid %s annotation %r: not a JSON array of strings' % (L.NETWORKS, text))
    return networks


def parse_extra_hosts(annotations):
    """`nerdctl/extraHosts` (JSON array of "host:ip") as a map; a duplicate host keeps the last IP."""
    text = annotations.get(L.EXTRA_HOSTS) or 'null'
    try:
        entries = json.loads(text) or []
    except ValueError as exc:
        raise UserError('invalid %s annotation %r: %s' % (L.EXTRA_HOSTS, text, exc))
    return extra_hosts_map(entries)


def container_net(annotations, container_id, netconf_path, port_mappings, cni_path=None, create_default=True):
    """Build the ContainerNet of a container from its annotations.

    For CNI, nerdctl's default network is (re)created when missing, as nerdctl's hook does, so a
    container on `bridge` still starts after someone deleted the conflist.
    """
    namespace = annotations.get(L.NAMESPACE, '')
    if not namespace:
        raise UserError('namespace must be set')
    if not container_id:
        raise UserError('state.ID must be set')
    networks = parse_networks(annotations)
    net_type = detect(networks)
    confs = []
    if net_type == CNI:
        if create_default:
            ensure_default_network(netconf_path, cni_path=cni_path)
        confs = load_networks(netconf_path, networks, namespace)
    options = NetOptions(port_mappings=port_mappings, ip=annotations.get(L.IP), mac=annotations.get(L.MAC_ADDRESS),
                         ip6=annotations.get(L.IP6), hostname=annotations.get(L.HOSTNAME, ''))
    return ContainerNet(container_id, namespace, networks, net_type, confs, options)
