# -*- coding: utf-8 -*-
# Copyright (c) ctrd.containerd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Print containerd's Version RPC answer as JSON, through the collection's own client.

Used by tests/harness/prepare.yml to prove that the private daemon answers before the integration targets run.
The collection is found on ANSIBLE_COLLECTIONS_PATH, exactly where ansible-playbook finds it.
Usage: containerd_version.py <socket>
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import sys


def main():
    for path in reversed(os.environ.get('ANSIBLE_COLLECTIONS_PATH', '').split(os.pathsep)):
        if path:
            sys.path.insert(0, path)
    from ansible_collections.ctrd.containerd.plugins.module_utils.containerd.client import Client  # pylint: disable=import-outside-toplevel
    client = Client(sys.argv[1], timeout=10)
    try:
        print(json.dumps(client.version()))
    finally:
        client.close()


if __name__ == '__main__':
    main()
