# -*- coding: utf-8 -*-
# Copyright (c) ctrd.containerd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""nerdctl's network type detection (`nettype.Detect`): which manager a network list needs.

The hook and the stop/kill cleanup only call CNI for `cni`; host, none, container and ns modes have
no CNI state to set up or tear down.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ..errors import UserError

NONE = 'none'
HOST = 'host'
CNI = 'cni'
CONTAINER = 'container'
NAMESPACE = 'ns'

_BY_PREFIX = {'none': NONE, 'host': HOST, 'container': CONTAINER, 'ns': NAMESPACE}


def entry_type(entry):
    """The type of one `--network` entry: its text before the first `:` names it, anything else is CNI."""
    return _BY_PREFIX.get(entry.split(':', 1)[0], CNI)


def detect(networks):
    """The common type of all entries (an empty list means CNI); mixed types are nerdctl's error."""
    found = None
    for entry in networks or []:
        kind = entry_type(entry)
        if found is None:
            found = kind
        elif kind != found:
            raise UserError('mixed network types: %s and %s' % (found, kind))
    return found or CNI
