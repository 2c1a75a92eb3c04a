# -*- coding: utf-8 -*-
# Copyright (c) ctrd.containerd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""JSON schemas for everything nerdctl stores as JSON in labels and state files, and one safe loader.

Labels and state files may have been written by any nerdctl version (or damaged by hand).  nerdctl logs
a decode problem and carries on, so every reader here goes through load_json(), which parses, validates
the shape and reports problems as one line instead of a traceback deep inside a module.

A small built-in validator checks these schemas (only the keywords used below: type, properties,
required, items, additionalProperties, enum, minimum, maximum).  Valid data, the common case, never
needs more.  When it finds a problem and jsonschema is importable, jsonschema judges again and words the
message; importing jsonschema costs about 35 ms, a third of a module's start-up, so it is imported only
then.  Behaviour does not depend on the library being installed.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

from .errors import UserError

_JSONSCHEMA = []


def _jsonschema():
    """The jsonschema module, imported on first need; None when it is not installed."""
    if not _JSONSCHEMA:
        try:
            import jsonschema  # pylint: disable=import-outside-toplevel
        except ImportError:  # the built-in validator covers it
            jsonschema = None
        _JSONSCHEMA.append(jsonschema)
    return _JSONSCHEMA[0]


_STR = {'type': 'string'}
_STR_MAP = {'type': ['object', 'null'], 'additionalProperties': {'type': 'string'}}
_STR_LIST = {'type': ['array', 'null'], 'items': {'type': 'string'}}

PORT_MAPPING = {
    'type': 'object',
    'properties': {
        'HostPort': {'type': 'integer', 'minimum': -2147483648, 'maximum': 2147483647},
        'ContainerPort': {'type': 'integer', 'minimum': -2147483648, 'maximum': 2147483647},
        'Protocol': _STR,
        'HostIP': _STR,
    },
}
PORTS = {'type': ['array', 'null'], 'items': PORT_MAPPING}
NETWORK_CONFIG = {'type': 'object', 'properties': {'portMappings': PORTS}}

MOUNT = {
    'type': 'object',
    'properties': {
        'Type': _STR, 'Name': _STR, 'Source': _STR, 'Destination': _STR, 'Driver': _STR,
        'Mode': _STR, 'RW': {'type': 'boolean'}, 'Propagation': _STR,
    },
}
MOUNTS = {'type': ['array', 'null'], 'items': MOUNT}

IPC = {
    'type': 'object',
    'properties': {'mode': _STR, 'victimContainerId': _STR, 'hostShmPath': _STR, 'shmSize': _STR},
}
HOSTS_META = {
    'type': 'object',
    'properties': {
        'ID': _STR,
        'Networks': {'type': ['object', 'null'], 'additionalProperties': {'type': ['object', 'null']}},
        'Hostname': _STR,
        'ExtraHosts': _STR_MAP,
        'Name': _STR,
        'Domainname': _STR,
    },
}
LOG_CONFIG = {
    'type': 'object',
    'properties': {'driver': _STR, 'opts': _STR_MAP, 'address': _STR},
}
LIFECYCLE = {
    'type': 'object',
    'properties': {'started_at': _STR, 'create_error': {'type': 'boolean'}},
}
VOLUME_JSON = {'type': 'object', 'properties': {'labels': _STR_MAP}}

# Keyed by the label key or file name that the JSON comes from; that key prefixes every problem text.
SCHEMAS = {
    'nerdctl/ports': PORTS,
    'network-config.json': NETWORK_CONFIG,
    'nerdctl/mounts': MOUNTS,
    'nerdctl/mounts.N': MOUNT,
    'nerdctl/anonymous-volumes': _STR_LIST,
    'nerdctl/ipc': IPC,
    'nerdctl/networks': _STR_LIST,
    'nerdctl/extraHosts': _STR_LIST,
    'meta.json': HOSTS_META,
    'nerdctl/log-config': LOG_CONFIG,
    'log-config.json': LOG_CONFIG,
    'lifecycle.json': LIFECYCLE,
    'volume.json': VOLUME_JSON,
}


def schema_for(what):
    """The schema for a label key / file name; `nerdctl/mounts.<i>` share one entry."""
    if what in SCHEMAS:
        return SCHEMAS[what]
    if what.startswith('nerdctl/mounts.'):
        return SCHEMAS['nerdctl/mounts.N']
    base = what.rsplit('/', 1)[-1]
    if base in SCHEMAS:
        return SCHEMAS[base]
    raise KeyError('no schema for %s' % what)


_TYPES = {
    'object': lambda v: isinstance(v, dict),
    'array': lambda v: isinstance(v, list),
    'string': lambda v: isinstance(v, str),
    'boolean': lambda v: isinstance(v, bool),
    'integer': lambda v: isinstance(v, int) and not isinstance(v, bool),
    'number': lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    'null': lambda v: v is None,
}


def _where(path):
    return '$' + ''.join('[%d]' % p if isinstance(p, int) else '.%s' % p for p in path)


def fallback_validate(value, schema, path=()):  # pylint: disable=too-many-return-statements
    """Validate with the keyword subset the schemas above use; return a problem string or None."""
    types = schema.get('type')
    if types is not None:
        types = [types] if isinstance(types, str) else types
        if not any(_TYPES[t](value) for t in types):
            return '%s: %s is not of type %s' % (_where(path), json.dumps(value), ', '.join(repr(t) for t in types))
    if 'enum' in schema and value not in schema['enum']:
        return '%s: %s is not one of %s' % (_where(path), json.dumps(value), schema['enum'])
    if _TYPES['number'](value):
        if 'minimum' in schema and value < schema['minimum']:
            return '%s: %s is less than the minimum of %s' % (_where(path), value, schema['minimum'])
        if 'maximum' in schema and value > schema['maximum']:
            return '%s: %s is greater than the maximum of %s' % (_where(path), value, schema['maximum'])
    if isinstance(value, dict):
        for key in schema.get('required', ()):
            if key not in value:
                return '%s: %r is a required property' % (_where(path), key)
        props = schema.get('properties', {})
        extra = schema.get('additionalProperties')
        for key, item in value.items():
            sub = props.get(key, extra if isinstance(extra, dict) else None)
            if sub is not None:
                problem = fallback_validate(item, sub, path + (key,))
                if problem:
                    return problem
    if isinstance(value, list) and 'items' in schema:
        for index, item in enumerate(value):
            problem = fallback_validate(item, schema['items'], path + (index,))
            if problem:
                return problem
    return None


def validate(value, schema):
    """A one-line problem description, or None when `value` matches `schema`."""
    problem = fallback_validate(value, schema)
    jsonschema = _jsonschema() if problem is not None else None
    if jsonschema is None:
        return problem
    errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(value), key=lambda e: list(e.absolute_path))
    if not errors:
        return None
    err = errors[0]
    return '%s: %s' % (_where(tuple(err.absolute_path)), err.message)


def json_error_text(exc, text):
    """Go's wording for the two decode failures users actually meet, Python's otherwise."""
    if not text.strip() or 'Expecting value' in str(exc) and exc.pos >= len(text.rstrip()):
        return 'unexpected end of JSON input'
    return str(exc)


def load_json(what, text, warn=None):
    """Parse and validate JSON read from label/file `what`.

    On a problem: with `warn`, call warn('<what>: <problem>') and return None (nerdctl logs and goes on);
    without it, raise UserError('<what>: <problem>') for callers where nerdctl fails the operation.
    """
    problem = None
    value = None
    try:
        value = json.loads(text)
    except ValueError as exc:
        problem = json_error_text(exc, text)
    if problem is None:
        problem = validate(value, schema_for(what))
    if problem is None:
        return value
    message = '%s: %s' % (what, problem)
    if warn is None:
        raise UserError(message)
    warn(message)
    return None
