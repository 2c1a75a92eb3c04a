# -*- coding: utf-8 -*-
# Copyright (c) ctrd.containerd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):
    """The connection and data-store options every module shares, documented once."""

    DOCUMENTATION = r'''
options:
  address:
    description:
      - Path of containerd's gRPC socket on the managed node. A C(unix://) prefix is accepted.
      - If not set, the environment variable E(CONTAINERD_ADDRESS) is used, else the default.
    type: str
    default: /run/containerd/containerd.sock
  namespace:
    description:
      - containerd namespace to work in.
      - If not set, the environment variable E(CONTAINERD_NAMESPACE) is used, else the default.
    type: str
    default: default
  timeout:
    description:
      - Deadline in seconds for each call to containerd.
      - Waiting for a container to stop is not bounded by this; it waits as long as the stop timeout needs.
      - If not set, the environment variable E(CONTAINERD_TIMEOUT) is used, else the default.
    type: float
    default: 30
  data_root:
    description:
      - nerdctl's data root. The data store used for state directories, names, hosts files and volumes is
        C(<data_root>/<first 8 hex digits of sha256(address)>), exactly as nerdctl computes it, so that
        nerdctl and this collection share state.
      - If not set, the environment variable E(NERDCTL_DATA_ROOT) is used, else the default.
    type: path
    default: /var/lib/nerdctl
  cni_path:
    description:
      - Directory holding the CNI plugin binaries.
      - If not set, the environment variable E(CNI_PATH) is used; else the first of C(/opt/cni/bin) and
        C(/usr/lib/cni) (Debian's location) that holds a C(bridge) plugin.
    type: path
  cni_netconf_path:
    description:
      - Directory holding CNI network configuration lists (C(*.conflist)).
      - If not set, the environment variable E(NETCONFPATH) is used, else the default.
    type: path
    default: /etc/cni/net.d
  snapshotter:
    description:
      - containerd snapshotter used to unpack images and to reach the root filesystem of containers that
        have no running task.
      - If not set, the environment variable E(CONTAINERD_SNAPSHOTTER) is used, else the default.
    type: str
    default: overlayfs
requirements:
  - grpcio and protobuf (3.20 or newer) for the Python interpreter that runs the module on the managed node.
    Debian 12's C(python3-grpcio) and C(python3-protobuf) work.
'''

    ATTRIBUTES = r'''
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
  idempotent:
    description:
      - When run twice in a row outside check mode, with the same arguments, the second invocation indicates no change.
  action_group:
    description: Use C(group/ctrd.containerd.containerd) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - ctrd.containerd.containerd
'''
