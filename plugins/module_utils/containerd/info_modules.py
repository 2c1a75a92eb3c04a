# -*- coding: utf-8 -*-
# Copyright (c) ctrd.containerd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Policies of the read-only modules containerd_container_info and containerd_port_info.

They never change anything, so the policy is only: resolve, read, shape the result.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from .errors import UserError
from .info import container_info, port_dicts, ports_of
from .ports import port_lines
from .resolve import find_container


def container_info_policy(mod):
    """exists/container; a missing container is not an error; can_talk_to_containerd on every path."""
    client = mod.client
    client.version()  # a cheap call that proves containerd answers, whatever the lookup says next
    mod.fail_results['can_talk_to_containerd'] = True
    record = find_container(client, mod.params['name'])
    result = {'changed': False, 'can_talk_to_containerd': True, 'exists': record is not None, 'container': None}
    if record is not None:
        result['container'] = container_info(client, record, mod.params, mod.warn)
    return result


def port_info_policy(mod):
    """nerdctl port: the mappings (all, or the one for port/protocol) and the lines nerdctl prints."""
    p = mod.params
    port = p['port']
    proto = p['protocol'].lower()
    if port is not None and port <= 0:
        raise UserError('unexpected port %d' % port)
    record = find_container(mod.client, p['name'])
    if record is None:
        raise UserError('no such container %s' % p['name'])
    mappings = ports_of(record, p, mod.warn)
    lines = port_lines(mappings, port, proto, record.id)
    if port is not None:
        mappings = [m for m in mappings
                    if m['ContainerPort'] == port and (m.get('Protocol') or 'tcp').lower() == proto][:1]
    return {'changed': False, 'ports': port_dicts(mappings), 'lines': lines, 'id': record.id}
