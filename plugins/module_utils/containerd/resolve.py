# -*- coding: utf-8 -*-
# Copyright (c) ctrd.containerd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Resolve a container argument the way nerdctl's container walker does.

A request matches a container whose `nerdctl/name` label equals it exactly OR whose ID starts with it.
Both kinds of hit count together: one match is the container, none is `no such container`, more than
one is an error even when one of them is an exact name match (nerdctl's rule, kept on purpose so the two
tools agree on every argument).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

from .errors import UserError

NAME_LABEL = 'nerdctl/name'


def _quote(value):
    """containerd's filter syntax takes a double-quoted value with backslash escapes."""
    return '"%s"' % value.replace('\\', '\\\\').replace('"', '\\"')


def walker_filters(req):
    """The two containerd filters nerdctl ORs together for one request."""
    return ['labels.%s==%s' % (_quote(NAME_LABEL), _quote(req)),
            'id~=%s' % _quote('^%s.*$' % re.escape(req))]


def find_containers(client, req):
    """Every container the request matches (name or ID prefix), without judging the count."""
    if req.startswith('k8s://'):
        raise UserError('specifying "k8s://..." form is not supported (Hint: specify ID instead): "%s"' % req)
    if not req:
        raise UserError('container name or ID must not be empty')
    seen = {}
    for record in client.list_containers(walker_filters(req)):
        seen[record.id] = record
    # containerd evaluates `~=` with Go's RE2; re.escape output is a valid RE2 pattern for any text,
    # and the Python-side check guards against a daemon that treats the filter differently.
    return [r for r in seen.values() if r.id.startswith(req) or r.labels.get(NAME_LABEL) == req]


def find_container(client, req):
    """The one matching container, or None when nothing matches; more than one match is an error."""
    hits = find_containers(client, req)
    if len(hits) > 1:
        raise UserError('multiple IDs found with provided prefix: %s' % req)
    return hits[0] if hits else None


def resolve_container(client, req):
    """The one matching container; `no such container: X` when nothing matches."""
    record = find_container(client, req)
    if record is None:
        raise UserError('no such container: %s' % req)
    return record
