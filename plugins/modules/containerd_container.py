#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) ctrd.containerd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: containerd_container
short_description: Define or remove a containerd container, as nerdctl create and nerdctl rm do
version_added: 0.1.0
description:
  - Creates a container from an image with nerdctl's labels, annotations, state files and OCI spec, so that
    nerdctl and this collection understand each other's containers. The container is created, not started;
    use M(ctrd.containerd.containerd_container_state) to start it.
  - The OCI spec is containerd's default Linux spec for runc, with the image config (Env, Entrypoint, Cmd,
    WorkingDir, User, StopSignal) and the options applied; runtime C(io.containerd.runc.v2).
  - Networking is set up and torn down by OCI hooks in the spec whenever a task is created or deleted, including
    restarts done by containerd's restart monitor.
  - An existing container (found by O(name)) is compared with the options that are set; options left unset
    are not compared. A difference recreates the container when O(recreate) allows it (a running container is
    stopped, removed, created again and started), else the module fails naming the differing options.
  - Recreating removes the old container's anonymous volumes (nobody could name them afterwards); named volumes
    and bind mounts are kept.
extends_documentation_fragment:
  - ctrd.containerd.containerd
  - ctrd.containerd.containerd.attributes
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: Reports exactly what would be created, recreated or removed, without touching anything.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details: Names every differing option with its recorded and desired value.
  idempotent:
    description: When run twice in a row outside check mode, with the same arguments, the second invocation indicates no change.
    support: full
options:
  name:
    description:
      - Container name (the C(nerdctl/name) label). With O(state=absent) also a full ID or unique ID prefix.
    type: str
    required: true
  state:
    description: Whether the container should exist.
    type: str
    choices: [present, absent]
    default: present
  image:
    description: Image reference, already imported (see M(ctrd.containerd.containerd_image)). Required with O(state=present).
    type: str
  command:
    description: Arguments replacing the image's CMD.
    type: list
    elements: str
  entrypoint:
    description:
      - Replaces the image's ENTRYPOINT; when set, the image's CMD is dropped (as C(nerdctl --entrypoint) does).
    type: list
    elements: str
  env:
    description:
      - Environment variables, merged over the image's Env. A key with a null value unsets it.
    type: dict
  labels:
    description:
      - User labels. The image's labels are added first. Keys starting with C(nerdctl/) are refused.
    type: dict
  working_dir:
    description: Working directory of the process.
    type: str
  user:
    description: C(user), C(uid), C(user:group), C(uid:gid), ... resolved in the image's /etc/passwd and /etc/group.
    type: str
  hostname:
    description: Container hostname; default the first 12 characters of the ID (with the host network, the host's name).
    type: str
  networks:
    description:
      - V(bridge) (nerdctl's default network, created when missing), other CNI network names, V(host), V(none)
        or V(container:<name|id>). Types cannot be mixed. Default V([bridge]).
    type: list
    elements: str
  published_ports:
    description:
      - nerdctl's C(-p) syntax C([ip:][hostPort:]containerPort[/proto]), ranges allowed; without a host port one is
        allocated. An automatic host port matches any recorded port when comparing.
    type: list
    elements: str
  volumes:
    description:
      - C(/host:/ctr[:opts]) bind mounts, C(name:/ctr[:opts]) named volumes, C(/ctr) anonymous volumes.
    type: list
    elements: str
  extra_hosts:
    description: C(host:ip) entries for /etc/hosts; C(host:host-gateway) uses the host's first non-loopback IPv4.
    type: list
    elements: str
  read_only:
    description: Mount the root file system read-only.
    type: bool
  restart_policy:
    description: V(no), V(always), V(on-failure[:n]) or V(unless-stopped), enforced by containerd's restart monitor.
    type: str
  stop_signal:
    description: Signal for stopping (the image's StopSignal takes precedence, as in nerdctl). Default SIGTERM.
    type: str
  stop_timeout:
    description: Seconds to wait after the stop signal before SIGKILL (label C(nerdctl/stop-timeout)); 0 means the default 10.
    type: int
  pid_mode:
    description: V(host) or V(container:<name|id>) (the target must be running).
    type: str
  ipc_mode:
    description: V(private), V(shareable), V(host) or V(container:<name|id>) (the target must be running and shareable).
    type: str
  auto_remove:
    description: The C(--rm) flag (label C(nerdctl/auto-remove)); anonymous volumes are removed with the container.
    type: bool
  recreate:
    description:
      - V(on_change) recreates a container whose configuration differs, V(never) fails instead, V(always) recreates it anyway.
    type: str
    choices: [never, on_change, always]
    default: on_change
  remove_volumes:
    description: With O(state=absent), also remove the container's anonymous volumes (C(nerdctl rm -v)).
    type: bool
    default: false
author:
  - ctrd.containerd contributors (@ctrd-containerd)
'''

EXAMPLES = r'''
- name: A web server with a published port
  ctrd.containerd.containerd_container:
    name: web
    image: docker.io/library/busybox:latest
    command: [httpd, -f, -p, "80", -h, /www]
    published_ports: ["127.0.0.1:8080:80"]
    volumes: ["/srv/www:/www:ro"]
    restart_policy: unless-stopped

- name: Remove it and its anonymous volumes
  ctrd.containerd.containerd_container:
    name: web
    state: absent
    remove_volumes: true
'''

RETURN = r'''
container:
  description: The container as M(ctrd.containerd.containerd_container_info) returns it; V(null) after removal or when check mode would create it.
  returned: success
  type: dict
actions:
  description: What was (or would be) done, in order (V(create), V(recreate), V(start), V(remove)).
  returned: changed
  type: list
  elements: str
differences:
  description: The options that differ from the existing container, with the recorded and the desired value.
  returned: when the container is recreated
  type: list
  elements: dict
  sample: [{"field": "env", "before": ["A=1"], "after": ["A=2"]}]
'''

from ansible_collections.ctrd.containerd.plugins.module_utils.containerd.module import ContainerdModule
from ansible_collections.ctrd.containerd.plugins.module_utils.containerd.container import container_policy


def main():
    argument_spec = dict(
        name=dict(type='str', required=True),
        state=dict(type='str', default='present', choices=['present', 'absent']),
        image=dict(type='str'),
        command=dict(type='list', elements='str'),
        entrypoint=dict(type='list', elements='str'),
        env=dict(type='dict'),
        labels=dict(type='dict'),
        working_dir=dict(type='str'),
        user=dict(type='str'),
        hostname=dict(type='str'),
        networks=dict(type='list', elements='str'),
        published_ports=dict(type='list', elements='str'),
        volumes=dict(type='list', elements='str'),
        extra_hosts=dict(type='list', elements='str'),
        read_only=dict(type='bool'),
        restart_policy=dict(type='str'),
        stop_signal=dict(type='str'),
        stop_timeout=dict(type='int'),
        pid_mode=dict(type='str'),
        ipc_mode=dict(type='str'),
        auto_remove=dict(type='bool'),
        recreate=dict(type='str', default='on_change', choices=['never', 'on_change', 'always']),
        remove_volumes=dict(type='bool', default=False),
    )
    module = ContainerdModule(argument_spec, supports_check_mode=True, required_if=[('state', 'present', ['image'])])
    module.run(container_policy)


if __name__ == '__main__':
    main()
