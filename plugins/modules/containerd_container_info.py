#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) ctrd.containerd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: containerd_container_info
short_description: Report on one containerd container, as nerdctl sees it
version_added: 0.1.0
description:
  - Looks a container up by name, full ID or unique ID prefix, exactly as nerdctl resolves a container argument,
    and returns what nerdctl knows of it (status, ports, volumes, networking, restart labels).
  - A missing container is not an error; O(name) matching several containers is.
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
    description:
      - Container name (the C(nerdctl/name) label), full ID, or an ID prefix.
      - The name and prefix matches are counted together, as nerdctl does; more than one match is an error.
    type: str
    required: true
author:
  - ctrd.containerd contributors (@ctrd-containerd)
'''

EXAMPLES = r'''
- name: Read a container
  ctrd.containerd.containerd_container_info:
    name: web
  register: web

- name: Show where its port 80 is published
  ansible.builtin.debug:
    msg: "{{ web.container.ports | selectattr('container_port', 'equalto', 80) | list }}"
  when: web.exists

- name: Probe a node for a containerd without failing the play
  ctrd.containerd.containerd_container_info:
    name: anything
    address: /run/containerd/containerd.sock
  register: probe
  ignore_errors: true

- name: Use another namespace and socket for every module of the collection
  module_defaults:
    group/ctrd.containerd.containerd:
      address: /run/k3s/containerd/containerd.sock
      namespace: k8s.io
  block:
    - ctrd.containerd.containerd_container_info:
        name: 3f2a
'''

RETURN = r'''
can_talk_to_containerd:
  description: Whether containerd answered. Also returned when the module fails.
  returned: always
  type: bool
  sample: true
exists:
  description: Whether a container matched O(name).
  returned: success
  type: bool
  sample: true
container:
  description: The container, or V(null) when it does not exist.
  returned: success
  type: dict
  contains:
    id:
      description: Full container ID.
      type: str
      sample: 4f1d3c7b9a0e...
    name:
      description: The C(nerdctl/name) label; for Kubernetes containers C(k8s://<ns>/<pod>[/<container>]); else empty.
      type: str
      sample: web
    image:
      description: Image reference the container was created from.
      type: str
      sample: docker.io/library/nginx:latest
    labels:
      description: All container labels.
      type: dict
    status:
      description: V(created) when the container has no task; else the task status (V(running), V(paused), V(stopped), ...).
      type: str
      sample: running
    pid:
      description: PID of the task's init process on the host, while running or paused; else V(null).
      type: int
    netns_path:
      description: C(/proc/<pid>/ns/net) while running, else V(null).
      type: str
    state_dir:
      description: nerdctl's state directory of the container (label C(nerdctl/state-dir), else computed).
      type: str
    volumes:
      description:
        - Volumes and mounts recorded by nerdctl (C(nerdctl/anonymous-volumes), then C(nerdctl/mounts) or C(nerdctl/mounts.N)).
        - Anonymous volumes appear twice, once with only O(name), as nerdctl reports them.
      type: list
      elements: dict
      sample: [{"type": "bind", "name": "", "source": "/srv", "destination": "/data", "mode": "ro", "rw": false, "propagation": ""}]
    network_options:
      description: Networking options read from the spec annotations (nerdctl's NetworkOptionsFromSpec); V(null) if unreadable.
      type: dict
    extra_hosts:
      description: C(host:ip) entries of the C(nerdctl/extraHosts) label.
      type: list
      elements: str
    ports:
      description: Published ports in stored order (C(network-config.json), else the legacy C(nerdctl/ports) label).
      type: list
      elements: dict
      sample: [{"container_port": 80, "protocol": "tcp", "host_ip": "0.0.0.0", "host_port": 8080}]
    restart:
      description: Restart policy labels of containerd's restart monitor.
      type: dict
      sample: {"policy": "always", "status": "running", "explicitly_stopped": false, "count": 0}
    error:
      description: The C(nerdctl/error) label (last failure of a lifecycle verb), or V(null).
      type: str
    auto_remove:
      description: The C(nerdctl/auto-remove) label (C(--rm)).
      type: bool
    created_at:
      description: Creation time (RFC 3339).
      type: str
    updated_at:
      description: Last update time of the container record (RFC 3339).
      type: str
    snapshotter:
      description: Snapshotter holding the container's root filesystem.
      type: str
      sample: overlayfs
    snapshot_key:
      description: Key of the container's snapshot.
      type: str
    runtime:
      description: containerd runtime name.
      type: str
      sample: io.containerd.runc.v2
'''

from ansible_collections.ctrd.containerd.plugins.module_utils.containerd.module import ContainerdModule
from ansible_collections.ctrd.containerd.plugins.module_utils.containerd.info_modules import container_info_policy


def main():
    module = ContainerdModule(dict(name=dict(type='str', required=True)),
                              supports_check_mode=True, fail_results={'can_talk_to_containerd': False})
    module.run(container_info_policy)


if __name__ == '__main__':
    main()
