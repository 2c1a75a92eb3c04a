#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) ctrd.containerd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test-only module: plant a container record shaped like one nerdctl created.

It writes what the read-only modules read (labels, spec annotations, files in the state dir) without
a task, so the tests can cover every storage form nerdctl has used (legacy and current ports and mounts
labels, k8s names) without needing nerdctl itself.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: nerdctl_fixture
short_description: Test fixture, plants nerdctl-shaped container records
description: Test fixture, plants nerdctl-shaped container records.
options:
  id:
    description: Container ID.
    type: str
    required: true
  labels:
    description: Labels; keys containing nerdctl/ are copied into spec annotations as nerdctl does.
    type: dict
    default: {}
  state_files:
    description: Files to write in the state dir, name to content.
    type: dict
    default: {}
  image:
    description: Image name recorded on the container.
    type: str
    default: localhost/ctrd-test/busybox:latest
  state:
    description: present or absent.
    type: str
    default: present
    choices: [present, absent]
  address:
    description: containerd socket.
    type: str
    required: true
  namespace:
    description: containerd namespace.
    type: str
    required: true
  data_root:
    description: nerdctl data root.
    type: str
    required: true
author: ctrd.containerd contributors (@ctrd-containerd)
'''

import json
import os
import shutil

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.ctrd.containerd.plugins.module_utils.containerd.client import Client
from ansible_collections.ctrd.containerd.plugins.module_utils.containerd.datastore import container_state_dir, data_store
from ansible_collections.ctrd.containerd.plugins.module_utils.containerd.errors import NotFoundError


def main():
    module = AnsibleModule(argument_spec=dict(
        id=dict(type='str', required=True), labels=dict(type='dict', default={}),
        state_files=dict(type='dict', default={}), image=dict(type='str', default='localhost/ctrd-test/busybox:latest'),
        state=dict(type='str', default='present', choices=['present', 'absent']),
        address=dict(type='str', required=True), namespace=dict(type='str', required=True),
        data_root=dict(type='str', required=True)))
    p = module.params
    client = Client(p['address'], p['namespace'], 10)
    client.ensure_namespace()
    store = data_store(p['data_root'], p['address'])
    state_dir = container_state_dir(store, p['namespace'], p['id'])
    try:
        client.delete_container(p['id'])
        existed = True
    except NotFoundError:
        existed = False
    if os.path.isdir(state_dir):
        shutil.rmtree(state_dir)
    if p['state'] == 'absent':
        module.exit_json(changed=existed)
    labels = dict((k, str(v)) for k, v in p['labels'].items())
    annotations = dict((k, v) for k, v in labels.items() if 'nerdctl/' in k)
    spec = {'ociVersion': '1.0.2', 'process': {'args': ['sh'], 'cwd': '/'}, 'root': {'path': 'rootfs'},
            'hostname': labels.get('nerdctl/hostname', ''), 'annotations': annotations}
    record = client.msg('containerd.services.containers.v1.Container', id=p['id'], labels=labels, image=p['image'],
                        snapshotter='overlayfs', snapshot_key=p['id'])
    record.runtime.name = 'io.containerd.runc.v2'
    record.spec.CopyFrom(client.spec_any(spec))
    client.create_container(record)
    if p['state_files']:
        os.makedirs(state_dir, mode=0o700)
        for name, content in p['state_files'].items():
            with open(os.path.join(state_dir, name), 'w') as f:
                f.write(content if isinstance(content, str) else json.dumps(content))
    module.exit_json(changed=True, state_dir=state_dir)


if __name__ == '__main__':
    main()
