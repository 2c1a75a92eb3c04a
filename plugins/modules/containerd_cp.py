#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) ctrd.containerd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: containerd_cp
short_description: Copy files and directory trees into and out of containerd containers, like nerdctl cp
version_added: 0.1.0
description:
  - Copies a file or a directory tree from the managed node into a container, or from a container to the managed
    node (O(from_container=true)), with the path and shape rules of C(nerdctl cp) and its error messages.
  - Works the same on running, paused, created and stopped containers. A container with a live process is reached
    through C(/proc/<pid>/root); one without is reached by mounting its snapshot and its bind mounts and volumes in a
    private mount namespace that disappears with the module.
  - Every path inside the container is opened by the kernel relative to the container's root
    (C(openat2) with C(RESOLVE_IN_ROOT)), so no symlink the container holds can make the module read or write
    outside it.
  - Files land atomically (temporary file in the destination directory, then a rename) and are compared first
    (type, size, mode, owner, then bytes), so unchanged files are never rewritten and a second run reports no change.
  - See C(docs/cp.md) in the collection for the rules, the deliberate differences from nerdctl, and the limits.
extends_documentation_fragment:
  - ctrd.containerd.containerd
  - ctrd.containerd.containerd.attributes
attributes:
  check_mode:
    support: full
    details: Compares everything and reports what a real run would change; writes nothing.
  diff_mode:
    support: full
    details: Before and after text for a small text file; a one-line note for binary or large files and for trees.
  idempotent:
    support: full
    details:
      - A copy whose destination already matches reports no change and touches nothing.
      - As with nerdctl, a directory copied to a destination that does not exist yet lands as that destination;
        once it exists, the same task copies the directory into it. Use O(src=dir/.) to always copy the contents.
options:
  container:
    description:
      - Container name (the C(nerdctl/name) label), full ID, or unique ID prefix.
    type: str
    required: true
  src:
    description:
      - Path of the source. On the managed node unless O(from_container=true), then inside the container.
      - A container path resolves from C(/) (the working directory of the container is ignored).
      - A trailing C(/.) on a directory copies its contents rather than the directory itself.
      - Mutually exclusive with O(content).
    type: str
  dest:
    description:
      - Path of the destination. Inside the container unless O(from_container=true), then on the managed node.
      - An existing directory (or a path ending in C(/)) receives the source under its own name; a missing path names
        the copy. Only one missing level is created.
    type: str
    required: true
  from_container:
    description:
      - Copy from the container to the managed node instead of the reverse.
    type: bool
    default: false
  content:
    description:
      - Text to write into the container at O(dest) instead of copying O(src). Use O(content_is_b64) for binary data.
      - O(dest) must name the file. The file gets O(mode) (default C(0644)) and O(owner)/O(group) (default the module's
        user).
      - The value may appear in the diff; use C(no_log) on the task for secrets.
    type: str
  content_is_b64:
    description:
      - O(content) is base64 encoded.
    type: bool
    default: false
  follow_link:
    description:
      - Follow symlinks inside copied directories (nerdctl's C(-L)). The source path itself is always resolved,
        the last element included, as nerdctl does.
    type: bool
    default: false
  mode:
    description:
      - Mode of the copied regular files, as an octal string such as C("0644") (parsed as octal, like
        M(ansible.builtin.copy)). Directories keep the mode of their source.
      - Default is the source's mode.
    type: raw
  owner:
    description:
      - Owner of everything copied, as a number or a name. Into a container, names are looked up in the container's
        C(/etc/passwd) without running anything in it; out of a container, on the managed node.
      - Default into a container is the source's owner; out of a container the user the module runs as.
    type: str
  group:
    description:
      - Group of everything copied, as a number or a name (container's C(/etc/group), or the managed node's).
    type: str
  force:
    description:
      - V(true) replaces what differs. V(false) writes only what does not exist yet at the destination.
    type: bool
    default: true
notes:
  - Requires root on the managed node (mounting snapshots and writing as other users).
  - Hard links inside a copied tree are copied as separate files; sockets are skipped, as tar does.
  - A large tree is shared among forked worker processes, one per CPU the module may use (at most four); they
    open nothing outside the directories the module itself opened and end with it.
author:
  - ctrd.containerd contributors (@ctrd-containerd)
'''

EXAMPLES = r'''
- name: Copy a configuration file into a container
  ctrd.containerd.containerd_cp:
    container: web
    src: /srv/web/nginx.conf
    dest: /etc/nginx/nginx.conf
    owner: root
    group: nginx
    mode: "0640"

- name: Write a file from a string
  ctrd.containerd.containerd_cp:
    container: web
    content: "ready\n"
    dest: /run/ready

- name: Sync a directory's contents (idempotent on every run)
  ctrd.containerd.containerd_cp:
    container: web
    src: /srv/web/html/.
    dest: /usr/share/nginx/html

- name: Fetch the logs directory out of a stopped container
  ctrd.containerd.containerd_cp:
    container: web
    from_container: true
    src: /var/log/nginx
    dest: /tmp/web-logs
'''

RETURN = r'''
dest:
  description: The resolved destination path (inside the container, or on the managed node with O(from_container)).
  returned: success
  type: str
  sample: /etc/nginx/nginx.conf
files_copied:
  description: Files, symlinks and special files written (or that would be, in check mode), metadata-only fixes included.
  returned: success
  type: int
  sample: 1
dirs_created:
  description: Directories created (or that would be).
  returned: success
  type: int
  sample: 0
bytes_copied:
  description: Bytes of file content written (or that would be).
  returned: success
  type: int
  sample: 1024
diff:
  description: Before and after of the destination, when run with C(--diff) and something changed.
  returned: changed and diff mode
  type: dict
'''

from ansible_collections.ctrd.containerd.plugins.module_utils.containerd.module import ContainerdModule
from ansible_collections.ctrd.containerd.plugins.module_utils.containerd.cp.run import copy


def cp_policy(mod):
    return copy(mod.client, mod.params, check_mode=mod.check_mode, want_diff=mod.diff_mode)


def main():
    module = ContainerdModule(dict(
        container=dict(type='str', required=True),
        src=dict(type='str'),
        dest=dict(type='str', required=True),
        from_container=dict(type='bool', default=False),
        content=dict(type='str'),
        content_is_b64=dict(type='bool', default=False),
        follow_link=dict(type='bool', default=False),
        mode=dict(type='raw'),
        owner=dict(type='str'),
        group=dict(type='str'),
        force=dict(type='bool', default=True),
    ), supports_check_mode=True, mutually_exclusive=[('src', 'content')], required_one_of=[('src', 'content')])
    module.run(cp_policy)


if __name__ == '__main__':
    main()
