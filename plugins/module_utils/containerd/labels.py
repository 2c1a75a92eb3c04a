# -*- coding: utf-8 -*-
# Copyright (c) ctrd.containerd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The label keys nerdctl writes on containers, in one table, and the small rules tied to them.

Containers created by this collection must be indistinguishable from nerdctl's (and nerdctl's must be
readable here), so every key is spelled exactly once, in this module, and all other code imports it.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from .errors import UserError
from .goutil import go_quote, parse_bool

PREFIX = 'nerdctl/'

NAMESPACE = 'nerdctl/namespace'
NAME = 'nerdctl/name'
HOSTNAME = 'nerdctl/hostname'
DOMAINNAME = 'nerdctl/domainname'
EXTRA_HOSTS = 'nerdctl/extraHosts'
STATE_DIR = 'nerdctl/state-dir'
NETWORKS = 'nerdctl/networks'
PORTS = 'nerdctl/ports'  # deprecated: read as a fallback only (ports live in network-config.json)
IP = 'nerdctl/ip'
IP6 = 'nerdctl/ip6'
MAC_ADDRESS = 'nerdctl/mac-address'
LOG_URI = 'nerdctl/log-uri'
LOG_CONFIG = 'nerdctl/log-config'
PID_FILE = 'nerdctl/pid-file'
ANONYMOUS_VOLUMES = 'nerdctl/anonymous-volumes'
MOUNTS = 'nerdctl/mounts'  # legacy single JSON array; read before the indexed keys
MOUNTS_PREFIX = 'nerdctl/mounts.'  # nerdctl/mounts.0, nerdctl/mounts.1, ... one JSON object each
IMAGE_MOUNT_SNAPSHOTS = 'nerdctl/image-mount-snapshots'
PLATFORM = 'nerdctl/platform'
EXPOSED_PORTS = 'nerdctl/exposed-ports'
STOP_TIMEOUT = 'nerdctl/stop-timeout'
PID_CONTAINER = 'nerdctl/pid-container'
IPC = 'nerdctl/ipc'
AUTO_REMOVE = 'nerdctl/auto-remove'
PRIVILEGED = 'nerdctl/privileged'
HOST_CONFIG = 'nerdctl/host-config'
DNS = 'nerdctl/dns'
USER = 'nerdctl/user'
HEALTHCHECK = 'nerdctl/healthcheck'
HEALTH_STATE = 'nerdctl/healthstate'
ERROR = 'nerdctl/error'
NETWORK_NAMESPACE = 'nerdctl/network-namespace'

STOP_SIGNAL = 'io.containerd.image.config.stop-signal'
RESTART_POLICY = 'containerd.io/restart.policy'
RESTART_STATUS = 'containerd.io/restart.status'
RESTART_EXPLICITLY_STOPPED = 'containerd.io/restart.explicitly-stopped'
RESTART_COUNT = 'containerd.io/restart.count'
RESTART_LOGURI = 'containerd.io/restart.loguri'

CRI_KIND = 'io.cri-containerd.kind'
K8S_POD_NAMESPACE = 'io.kubernetes.pod.namespace'
K8S_POD_NAME = 'io.kubernetes.pod.name'
K8S_CONTAINER_NAME = 'io.kubernetes.container.name'

# containerd rejects a label whose key + value exceeds this many bytes.
MAX_LABEL_SIZE = 4096


def mounts_key(index):
    """The indexed mounts label key for position `index`."""
    return '%s%d' % (MOUNTS_PREFIX, index)


def label_fits(key, value):
    """Whether containerd will accept this label (key + value <= 4096 bytes, counted in UTF-8)."""
    return len(key.encode('utf-8')) + len(value.encode('utf-8')) <= MAX_LABEL_SIZE


def container_name(labels):
    """GetContainerName: nerdctl/name if the key exists (even empty), else the k8s:// form, else ''."""
    labels = labels or {}
    if NAME in labels:
        return labels[NAME]
    if K8S_POD_NAMESPACE in labels and K8S_POD_NAME in labels:
        if K8S_CONTAINER_NAME in labels:
            return 'k8s://%s/%s/%s' % (labels[K8S_POD_NAMESPACE], labels[K8S_POD_NAME], labels[K8S_CONTAINER_NAME])
        return 'k8s://%s/%s' % (labels[K8S_POD_NAMESPACE], labels[K8S_POD_NAME])
    return ''


def encode_rm_opt(value):
    """The nerdctl/auto-remove value for the --rm flag."""
    return 'true' if value else 'false'


def decode_rm_opt(text):
    """nerdctl/auto-remove back to a bool, with Go ParseBool's accepted spellings and error text."""
    return parse_bool(text)


def validate_user_labels(labels):
    """Reject user labels in nerdctl's internal namespace, as `nerdctl create --label` does."""
    for key in labels or {}:
        if key.startswith(PREFIX):
            raise UserError('internal label %s must not be specified manually' % go_quote(key))


def annotations_from_labels(labels):
    """The create-time copy of labels into OCI annotations: every key that contains `nerdctl/`."""
    return dict((k, v) for k, v in (labels or {}).items() if PREFIX in k)
