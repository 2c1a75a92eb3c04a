#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) ctrd.containerd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The containerd_image module: import an image archive into containerd, or remove an image."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: containerd_image
short_description: Import an image archive into containerd, or remove an image
version_added: 0.1.0
description:
  - Imports an OCI image-layout tar or a C(docker save) tar that lies on the managed node into containerd's
    content store, creates or re-points the image record O(name), and unpacks the layers into O(snapshotter),
    so that containers can be created from it right away. No registry is contacted.
  - Talks to containerd's gRPC API directly (the classic lease, content, images, snapshots and diff services),
    which behaves the same on containerd 1.6 and 2.x.
  - A C(docker save) archive carries no manifest; one is derived the way containerd's own importer derives it,
    so the image gets the same digest as with C(ctr images import).
  - From a multi-platform archive only the managed node's C(linux/<arch>) platform is imported and unpacked.
  - Removing an image deletes only the image record; containerd's garbage collector then frees the content and
    snapshots that nothing else uses.
extends_documentation_fragment:
  - ctrd.containerd.containerd
  - ctrd.containerd.containerd.attributes
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  platform:
    support: full
    platforms: posix
  idempotent:
    description: When run twice in a row with the same options, the second run reports no change.
    support: full
options:
  name:
    description:
      - Image reference, for example C(localhost/ctrd-test/busybox:latest).
      - Normalised as nerdctl does, so C(busybox) means C(docker.io/library/busybox:latest).
      - With O(state=present), the image of that name is taken from O(archive); an archive that holds a single
        image may carry another name or none.
    type: str
    required: true
  state:
    description:
      - V(present) imports O(archive) and unpacks it, unless the image already points at the same content and is
        unpacked.
      - V(absent) removes the image record.
    type: str
    choices: [present, absent]
    default: present
  archive:
    description:
      - Path on the managed node of an OCI image-layout tar or a C(docker save) tar (optionally gzip, bzip2 or xz
        compressed).
      - Required with O(state=present).
    type: path
author:
  - ctrd.containerd contributors (@ctrd-containerd)
'''

EXAMPLES = r'''
- name: Import a test image built without a registry
  ctrd.containerd.containerd_image:
    name: localhost/ctrd-test/busybox:latest
    archive: /tmp/busybox-oci.tar

- name: Load a docker save archive into another namespace
  ctrd.containerd.containerd_image:
    name: registry.example.com/app:1.2
    archive: /srv/images/app-1.2.tar
    namespace: apps

- name: Remove the image
  ctrd.containerd.containerd_image:
    name: localhost/ctrd-test/busybox:latest
    state: absent
'''

RETURN = r'''
image:
  description:
    - The imported image; empty with O(state=absent).
  returned: success
  type: dict
  contains:
    name:
      description: Normalised image name.
      type: str
      sample: localhost/ctrd-test/busybox:latest
    digest:
      description: Digest of the image record's target (manifest or index), as C(nerdctl images --digests) shows.
      type: str
      sample: sha256:b0835f066e57894979f960b897df1f3b4ebbd32ec89f8f7ebff4e0d1ea15f4b0
    media_type:
      description: Media type of the target.
      type: str
      sample: application/vnd.oci.image.manifest.v1+json
    size:
      description: Bytes of stored content for the managed node's platform (indexes, manifest, config, compressed layers).
      type: int
      sample: 1037182
    platform:
      description: Platform of the imported image config.
      type: str
      sample: linux/amd64
    config_digest:
      description: Digest of the image config (the image ID as docker shows it).
      type: str
      sample: sha256:cec12afaefd3d465016bbbb98209d4106f75b06ed68412f905a2d187b42fa90c
    chain_id:
      description: ChainID of the top layer, the name of the committed snapshot that containers are created from.
      type: str
      sample: sha256:fbed4e734952993bfca8244357ea5d246bf9ba9f7b0fe8e13ce03a34d66d7840
'''

from ansible_collections.ctrd.containerd.plugins.module_utils.containerd.image import run_module
from ansible_collections.ctrd.containerd.plugins.module_utils.containerd.module import ContainerdModule


def main():
    module = ContainerdModule(
        argument_spec=dict(
            name=dict(type='str', required=True),
            state=dict(type='str', default='present', choices=['present', 'absent']),
            archive=dict(type='path'),
        ),
        required_if=[('state', 'present', ['archive'])],
        supports_check_mode=True,
    )
    module.run(run_module)


if __name__ == '__main__':
    main()
