# -*- coding: utf-8 -*-
# Copyright (c) ctrd.containerd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Network-mode decisions read back from a container: nettype.Detect and NetworkOptionsFromSpec.

rm, stop/kill cleanup and the hooks all decide "is this CNI, host, none, container or ns?" from the
stored network list; one implementation keeps those decisions consistent with nerdctl's.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

from . import labels as L
from .errors import UserError

NONE = 'none'
HOST = 'host'
CNI = 'cni'
CONTAINER = 'container'
NAMESPACE = 'ns'

_BY_PREFIX = {'none': NONE, 'host': HOST, 'container': CONTAINER, 'ns': NAMESPACE}


def network_type(networks):
    """nettype.Detect: the common type of all entries (text before the first ':'); [] means cni."""
    result = None
    for name in networks or ():
        kind = _BY_PREFIX.get(name.split(':', 1)[0], CNI)
        if result is not None and result != kind:
            raise UserError('mixed network types: %s and %s' % (result, kind))
        result = kind
    return result or CNI


def _go_kind(value):
    if isinstance(value, bool):
        return 'bool'
    if isinstance(value, (int, float)):
        return 'number'
    if isinstance(value, str):
        return 'string'
    if isinstance(value, dict):
        return 'object'
    return 'array'


def decode_string_list(text):
    """json.Unmarshal into []string, with Go's error wording for the common failures; null gives []."""
    if not text.strip():
        raise UserError('unexpected end of JSON input')
    try:
        value = json.loads(text)
    except ValueError as exc:
        pos = getattr(exc, 'pos', 0)
        if pos >= len(text.rstrip()):
            raise UserError('unexpected end of JSON input')
        raise UserError('invalid character %s looking for beginning of value' % repr(text[pos]))
    if value is None:
        return []
    if not isinstance(value, list):
        raise UserError('json: cannot unmarshal %s into Go value of type []string' % _go_kind(value))
    for item in value:
        if item is not None and not isinstance(item, str):
            raise UserError('json: cannot unmarshal %s into Go value of type string' % _go_kind(item))
    return [item or '' for item in value]


def network_options_from_spec(spec):
    """Networking options rm rebuilds from the OCI spec *annotations* (not the labels).

    Returns {'hostname', 'mac_address', 'ip_address', 'networks'}; a missing or bad nerdctl/networks
    annotation is a JSON error, which makes nerdctl's rm fail.
    """
    if spec is None:
        raise UserError('cannot determine networking options from nil spec')
    annotations = spec.get('annotations')
    if annotations is None:
        raise UserError('cannot determine networking options from nil spec.Annotations')
    return {
        'hostname': spec.get('hostname', ''),
        'mac_address': annotations.get(L.MAC_ADDRESS, ''),
        'ip_address': annotations.get(L.IP, ''),
        'networks': decode_string_list(annotations.get(L.NETWORKS, '')),
    }
