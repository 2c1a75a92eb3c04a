#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) ctrd.containerd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: containerd_port_info
short_description: Report a container's published ports, as C(nerdctl port) prints them
version_added: 0.1.0
description:
  - Reads the port mappings nerdctl records for a container (C(network-config.json) in its state directory,
    else the legacy C(nerdctl/ports) label, with nerdctl's warning) and returns them structured and as the exact lines
    C(nerdctl port) prints for the same arguments.
  - Reads only; unlike C(nerdctl port) it never creates the container's state directory.
extends_documentation_fragment:
  - ctrd.containerd.containerd
  - ctrd.containerd.containerd.attributes
attributes:
  check_mode:
    support: full
    details: The module changes nothing, so it runs in check mode as it does otherwise.
  diff_mode:
    support: none
  idempotent:
    support: full
options:
  name:
    description: Container name, full ID or unique ID prefix (resolved as nerdctl does).
    type: str
    required: true
  port:
    description:
      - Only the mapping of this container port. Without it, every mapping is returned.
      - When no mapping matches, the module fails with nerdctl's text C(no public port <port>/<proto> published for "<id>").
    type: int
  protocol:
    description: Protocol of O(port), case-insensitive.
    type: str
    default: tcp
    choices: [tcp, udp, sctp, TCP, UDP, SCTP]
author:
  - ctrd.containerd contributors (@ctrd-containerd)
'''

EXAMPLES = r'''
- name: All published ports of web
  ctrd.containerd.containerd_port_info:
    name: web
  register: ports

- name: Where is 53/udp published?
  ctrd.containerd.containerd_port_info:
    name: dns
    port: 53
    protocol: udp
  register: dns_port

- ansible.builtin.debug:
    msg: "DNS answers on {{ dns_port.ports[0].host_ip }}:{{ dns_port.ports[0].host_port }}"
'''

RETURN = r'''
ports:
  description: Matching mappings in stored order (one at most when O(port) is given).
  returned: success
  type: list
  elements: dict
  contains:
    container_port:
      description: Port inside the container.
      type: int
    protocol:
      description: V(tcp), V(udp) or V(sctp).
      type: str
    host_ip:
      description: Host address the port is published on (IPv6 without brackets).
      type: str
    host_port:
      description: Port on the host.
      type: int
  sample: [{"container_port": 80, "protocol": "tcp", "host_ip": "0.0.0.0", "host_port": 8080}]
lines:
  description:
    - Exactly the lines C(nerdctl port) prints, without newlines.
    - V(80/tcp -> 0.0.0.0:8080) for every mapping, or V(0.0.0.0:8080) when O(port) is given.
  returned: success
  type: list
  elements: str
  sample: ["80/tcp -> 0.0.0.0:8080"]
id:
  description: Full ID of the container.
  returned: success
  type: str
'''

from ansible_collections.ctrd.containerd.plugins.module_utils.containerd.module import ContainerdModule
from ansible_collections.ctrd.containerd.plugins.module_utils.containerd.info_modules import port_info_policy


def main():
    module = ContainerdModule(dict(name=dict(type='str', required=True),
                                   port=dict(type='int'),
                                   protocol=dict(type='str', default='tcp',
                                                 choices=['tcp', 'udp', 'sctp', 'TCP', 'UDP', 'SCTP'])),
                              supports_check_mode=True)
    module.run(port_info_policy)


if __name__ == '__main__':
    main()
