# -*- coding: utf-8 -*-
# Copyright (c) ctrd.containerd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Volumes and mounts as nerdctl records them: `-v` parsing, the volume store, and the mounts labels.

`rm -v`, `--volumes-from`, `nerdctl inspect` and `nerdctl volume rm` all read the mounts labels that
create wrote, in nerdctl's exact JSON shapes, so these helpers produce and read exactly those shapes.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import posixpath

from . import labels as L
from .datastore import ensure_dir, atomic_write, store_lock, validate_identifier
from .errors import UserError
from .goutil import go_json, go_list, go_quote
from .schemas import load_json

BIND = 'bind'
VOLUME = 'volume'
TMPFS = 'tmpfs'
DATA_DIR = '_data'
VOLUME_JSON = 'volume.json'
WRITE_MODES = ('rw', 'ro', 'rro')
PROPAGATIONS = ('private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave')

# Label object fields in Go's field order; the first, second and fifth are omitted when empty.
_FIELDS = ('Type', 'Name', 'Source', 'Destination', 'Driver', 'Mode', 'RW', 'Propagation')
_OMIT_EMPTY = ('Type', 'Name', 'Driver')


def volumes_root(data_store, namespace):
    """<data store>/volumes/<ns>: the volume store, flocked as a whole."""
    return os.path.join(data_store, 'volumes', namespace)


def volume_mountpoint(data_store, namespace, name):
    """Where volume `name`'s data lives (the mount source)."""
    return os.path.join(volumes_root(data_store, namespace), name, DATA_DIR)


def new_volume_id():
    """A fresh 64-hex ID, as nerdctl names anonymous volumes (and containers)."""
    return os.urandom(32).hex()


def volume_json(vol_labels=None):
    """volume.json content: Go's MarshalIndent of {"labels": ...} with 4-space indent."""
    sorted_labels = dict(sorted(vol_labels.items())) if vol_labels else None
    return go_json({'labels': sorted_labels}, indent=4)


def ensure_volume(data_store, namespace, name, vol_labels=None, warn=None):
    """Create volume `name` (volume.json 0600 + _data 0700) unless it exists; return its mountpoint.

    Runs under the volume store flock, like nerdctl's create (which holds that lock for the whole create).
    """
    validate_identifier(name)
    root = volumes_root(data_store, namespace)
    with store_lock(root):
        vol_dir = os.path.join(root, name)
        meta = os.path.join(vol_dir, VOLUME_JSON)
        if os.path.exists(meta):
            if warn is not None:
                warn('volume %s already exists and will be returned as-is' % go_quote(name))
        else:
            ensure_dir(vol_dir)
            atomic_write(meta, volume_json(vol_labels), 0o600)
        ensure_dir(os.path.join(vol_dir, DATA_DIR))
    return os.path.join(vol_dir, DATA_DIR)


def mount_properties(mode):
    """(RW, Propagation) from a raw mode like `ro,rshared`: ro/rro make it read-only, the last propagation wins."""
    rw, propagation = True, ''
    for opt in mode.split(','):
        if opt in ('ro', 'rro'):
            rw = False
        elif opt in PROPAGATIONS:
            propagation = opt
    return rw, propagation


def mount_record(mtype, name, source, destination, mode, driver=''):
    """The object nerdctl stores per mount in nerdctl/mounts.N (dockercompat.MountPoint)."""
    rw, propagation = mount_properties(mode)
    if mtype == VOLUME and not driver:
        driver = 'local'
    return {'Type': mtype, 'Name': name, 'Source': source, 'Destination': destination, 'Driver': driver,
            'Mode': mode, 'RW': rw, 'Propagation': propagation}


def encode_mount(record):
    """Compact JSON of one record in Go's field order, Type/Name/Driver omitted when empty."""
    parts = []
    for field in _FIELDS:
        value = record.get(field, False if field == 'RW' else '')
        if field in _OMIT_EMPTY and not value:
            continue
        parts.append('%s:%s' % (json.dumps(field), go_json(value)))
    return '{' + ','.join(parts) + '}'


def mounts_labels(mount_list):
    """Labels for a list of records: nerdctl/mounts.<i> each; nothing at all for an empty list."""
    return dict((L.mounts_key(i), encode_mount(rec)) for i, rec in enumerate(mount_list or ()))


def raw_mounts(container_labels):
    """GetMount: the legacy label if non-empty, else `[m0,m1,...]` up to the first missing/empty index."""
    legacy = container_labels.get(L.MOUNTS, '')
    if legacy:
        return legacy
    chunks = []
    for i in range(len(container_labels)):
        chunk = container_labels.get(L.mounts_key(i), '')
        if not chunk:
            break
        chunks.append(chunk)
    return '[' + ','.join(chunks) + ']' if chunks else ''


def _field(obj, name, default):
    """Go's encoding/json matches field names case-insensitively; so do we."""
    if name in obj:
        return obj[name]
    lower = name.lower()
    for key, value in obj.items():
        if key.lower() == lower:
            return value
    return default


def _volume(type_='', name='', source='', destination='', mode='', rw=False, propagation=''):
    return {'type': type_, 'name': name, 'source': source, 'destination': destination, 'mode': mode, 'rw': rw,
            'propagation': propagation}


def container_volumes(container_labels, warn):
    """GetContainerVolumes: anonymous volumes (name only) first, then every mount record; bad JSON is warned and skipped."""
    container_labels = container_labels or {}
    result = []
    anonymous = container_labels.get(L.ANONYMOUS_VOLUMES, '')
    if anonymous:
        names = load_json(L.ANONYMOUS_VOLUMES, anonymous, warn)
        result.extend(_volume(name=n) for n in names or ())
    mounts = raw_mounts(container_labels)
    if mounts:
        records = load_json(L.MOUNTS, mounts, warn)
        for rec in records or ():
            result.append(_volume(_field(rec, 'Type', ''), _field(rec, 'Name', ''), _field(rec, 'Source', ''),
                                  _field(rec, 'Destination', ''), _field(rec, 'Mode', ''), _field(rec, 'RW', False),
                                  _field(rec, 'Propagation', '')))
    return result


def find_mountinfo(path, mountinfo='/proc/self/mountinfo'):
    """(mountpoint, optional fields) of the mount containing `path` (longest mountpoint prefix)."""
    real = os.path.realpath(path)
    best = ('', [])
    found = False
    with open(mountinfo, encoding='utf-8', errors='replace') as handle:
        for line in handle:
            fields = line.split()
            if len(fields) < 7:
                continue
            point = fields[4].replace('\\040', ' ')
            optional = []
            for extra in fields[6:]:
                if extra == '-':
                    break
                optional.append(extra)
            inside = real == point or point == '/' or real.startswith(point.rstrip('/') + '/')
            if inside and (not found or len(point) >= len(best[0])):
                best = (point, optional)
                found = True
    if not found:
        raise UserError('failed to find the mount info for %s' % go_quote(path))
    return best


def _require_optional(src, marks, mountinfo):
    point, optional = find_mountinfo(src, mountinfo)
    if not any(opt.startswith(mark) for opt in optional for mark in marks):
        raise UserError('mountpoint %s doesn\'t have optional field neither of %s' % (go_quote(point), go_list(marks)))


def volume_options(vtype, src, raw, rro_supported=False, warn=None, mountinfo='/proc/self/mountinfo'):
    """parseVolumeOptions: (OCI options, rootfs propagation or None). Errors carry Go's texts, unwrapped."""
    write_modes, propagations, binds = [], [], []
    for opt in raw.split(','):
        if opt in WRITE_MODES:
            write_modes.append(opt)
        elif opt in PROPAGATIONS:
            propagations.append(opt)
        elif opt in ('bind', 'rbind'):
            binds.append(opt)
        elif opt in ('Z', 'z', ''):
            continue  # SELinux relabel: only acts when the spec has a mount label, which we never set
        elif warn is not None:
            warn('unsupported volume option %s' % go_quote(opt))
    opts = []
    if binds and vtype != BIND:
        raise UserError('volume bind/rbind option is only supported for bind mount: %s' % go_list(binds))
    if len(binds) > 1:
        raise UserError('duplicated bind/rbind option: %s' % go_list(binds))
    opts.extend(binds)
    if len(write_modes) > 1:
        raise UserError('duplicated read/write volume option: %s' % go_list(write_modes))
    if write_modes == ['ro']:
        opts.append('rro' if rro_supported else 'ro')
    elif write_modes == ['rro']:
        if warn is not None:
            warn('The volume option "rro" is deprecated; use `--mount type=bind,src=...,dst=...,readonly,'
                 'bind-propagation=rprivate,bind-recursive=readonly` instead')
            if propagations != ['rprivate']:
                warn('Mount option "rro" should be used in conjunction with "rprivate"')
        if not rro_supported:
            raise UserError('the OCI runtime "runc" does not support recursive read-only ("rro") mounts')
        opts.append('rro')
    rootfs_propagation = None
    if len(propagations) > 1:
        raise UserError('duplicated volume propagation option: %s' % go_list(propagations))
    if propagations and vtype != BIND:
        raise UserError('volume propagation option is only supported for bind mount: %s' % go_list(propagations))
    if vtype == BIND:
        got = propagations[0] if propagations else ''
        if got in ('shared', 'rshared'):
            _require_optional(src, ['shared:'], mountinfo)
            rootfs_propagation = 'shared'
        elif got in ('slave', 'rslave'):
            _require_optional(src, ['shared:', 'master:'], mountinfo)
            rootfs_propagation = 'rslave'
        opts.append(got or 'rprivate')
    return opts, rootfs_propagation


def parse_volume(spec, data_store, namespace, create_dir=True, rro_supported=False, warn=None,
                 mountinfo='/proc/self/mountinfo'):
    """nerdctl's `-v` (ProcessFlagV): bind `/host:/ctr[:opts]`, named `name:/ctr[:opts]`, anonymous `/ctr`.

    Returns {'mount': the nerdctl/mounts.N record, 'oci_mount': {type, source, destination, options},
    'anonymous_volume': its name or '', 'rootfs_propagation': value the spec's linux.rootfsPropagation
    must be raised to (only for shared/slave binds when it is weaker), or None}.  Volumes are created.
    `rootfs_propagation` is a minimum: 'shared' leaves shared/rshared alone, 'rslave' leaves any
    shared/slave value alone.
    """
    text = spec.lstrip(':')
    split = text.split(':')
    anonymous, name, mode, opts, rootfs = '', '', '', [], None
    if len(split) == 1:
        dst = split[0]
        anonymous = new_volume_id()
        src = ensure_volume(data_store, namespace, anonymous, warn=warn)
        vtype = VOLUME
    elif len(split) in (2, 3):
        dst = split[1]
        if posixpath.normpath(dst) == '/':
            raise UserError("invalid specification: destination can't be '/'")
        if not dst.startswith('/'):
            raise UserError('expected an absolute path, got %s' % go_quote(dst))
        src = split[0]
        if _is_name(src):
            name = src
            try:
                src = ensure_volume(data_store, namespace, name, warn=warn)
            except UserError as exc:
                raise UserError('failed to get volume %s: %s' % (go_quote(name), exc))
            vtype = VOLUME
        else:
            vtype = BIND
            src = _bind_source(src, create_dir, warn)
        if len(split) == 3:
            mode = split[2]
            try:
                opts, rootfs = volume_options(vtype, src, mode, rro_supported, warn, mountinfo)
            except UserError as exc:
                raise UserError('failed to parse volume options (%s, %s, %s): %s' % (go_quote(vtype), go_quote(src), go_quote(mode), exc))
    else:
        raise UserError('failed to parse %s' % go_quote(text))
    fstype = 'none'
    if 'bind' in opts or 'rbind' in opts:
        fstype = 'bind'
    else:
        opts = opts + ['rbind']
    source, destination = posixpath.normpath(src), posixpath.normpath(dst)
    return {
        'mount': mount_record(vtype, anonymous or name, source, destination, mode),
        'oci_mount': {'type': fstype, 'source': source, 'destination': destination, 'options': opts},
        'anonymous_volume': anonymous,
        'rootfs_propagation': rootfs,
    }


def _is_name(text):
    try:
        validate_identifier(text)
    except UserError:
        return False
    return True


def _bind_source(source, create_dir, warn):
    """Absolute host path of a bind source; created (0755) when missing and `create_dir`, as nerdctl create does."""
    path = source if os.path.isabs(source) else os.path.abspath(source)
    if os.path.exists(source):
        return path
    if not create_dir:
        if warn is not None:
            warn('mount source %s does not exist. Please make sure to create the directory on the host.' % go_quote(source))
        return path
    try:
        os.makedirs(source, 0o755)
    except OSError as exc:
        raise UserError('failed to mkdir %s: %s' % (go_quote(source), exc.strerror))
    return path
