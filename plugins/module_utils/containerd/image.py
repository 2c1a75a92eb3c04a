# -*- coding: utf-8 -*-
# Copyright (c) ctrd.containerd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Images: import an archive into containerd and unpack it, remove image records, read an image's config.

Import follows containerd's classic client path (lease, content writes with garbage-collection labels,
image record, layer-by-layer unpack into the snapshotter), which works the same on containerd 1.6 and
2.x, where the Transfer service does not exist or differs.  Every step first checks what is already
there, so a repeated import writes nothing and check mode can predict exactly.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import collections
import json
import os
import platform as _platform
import re
import time

from .errors import AlreadyExistsError, ContainerdError, FailedPreconditionError, InvalidArgumentError
from .errors import NotFoundError, UserError
from .oci_archive import INDEX_TYPES, Archive, ArchiveError, chain_ids, platform_matches
from .oci_archive import platform_string

LABEL_GC_EXPIRE = 'containerd.io/gc.expire'
LABEL_GC_SNAPSHOT = 'containerd.io/gc.ref.snapshot.%s'
LEASE_SECONDS = 3600          # a crashed import leaves nothing behind for longer than this
BYTES_PER_SECOND = 1024 * 1024  # deadline allowance per byte for content writes and layer unpacking

_GOARCH = {'x86_64': 'amd64', 'amd64': 'amd64', 'aarch64': 'arm64', 'arm64': 'arm64', 'armv7l': 'arm',
           'armv6l': 'arm', 'i386': '386', 'i686': '386', 'ppc64le': 'ppc64le', 's390x': 's390x',
           'riscv64': 'riscv64', 'mips64': 'mips64'}
_VARIANT = {'aarch64': 'v8', 'arm64': 'v8', 'armv7l': 'v7', 'armv6l': 'v6'}

# The docker/distribution reference grammar (what nerdctl and docker accept as an image name).
_COMPONENT = r'[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*'
_DOMAIN = r'(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?'
_REFERENCE = re.compile(r'^(?:(?P<domain>%s)/)?(?P<path>%s(?:/%s)*)(?::(?P<tag>[\w][\w.-]{0,127}))?'
                        r'(?:@(?P<digest>[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}))?$'
                        % (_DOMAIN, _COMPONENT, _COMPONENT))

ImageConfig = collections.namedtuple('ImageConfig', 'image manifest config chain_id')


def host_platform():
    """linux/<GOARCH>[/<variant>] of this machine, the platform picked from multi-platform images."""
    machine = _platform.machine()
    result = {'os': 'linux', 'architecture': _GOARCH.get(machine, machine)}
    if machine in _VARIANT:
        result['variant'] = _VARIANT[machine]
    return result


def normalize_reference(name):
    """Fully qualify an image name the way nerdctl and docker do.

    `busybox` -> `docker.io/library/busybox:latest`; `localhost/x` -> `localhost/x:latest`.  A first
    path component counts as a registry only if it holds a `.` or `:` or is `localhost`.
    Raises ValueError with docker's wording for names that are not references.
    """
    if not name or name != name.strip():
        raise ValueError('invalid reference format')
    match = _REFERENCE.match(name)
    if match is None:
        if _REFERENCE.match(name.lower()):
            raise ValueError('invalid reference format: repository name must be lowercase')
        raise ValueError('invalid reference format')
    domain, path, tag, digest = match.group('domain', 'path', 'tag', 'digest')
    if domain is not None and not ('.' in domain or ':' in domain or domain == 'localhost' or domain.lower() != domain):
        path = domain + '/' + path
        domain = None
    if domain is None:
        domain = 'docker.io'
    if domain == 'index.docker.io':
        domain = 'docker.io'
    if domain == 'docker.io' and '/' not in path:
        path = 'library/' + path
    if len(domain + '/' + path) > 255:
        raise ValueError('invalid reference format: repository name must not be more than 255 characters')
    ref = domain + '/' + path
    if tag:
        ref += ':' + tag
    if digest:
        ref += '@' + digest
    elif not tag:
        ref += ':latest'
    return ref


def _rfc3339(seconds):
    return time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(seconds))


def _deadline(client, size):
    return client.timeout + float(size) / BYTES_PER_SECOND


def _descriptor(client, media_type, digest, size):
    return client.msg('containerd.types.Descriptor', media_type=media_type, digest=digest, size=size)


# ---- reading what containerd has ------------------------------------------------------------------------


def read_json_blob(client, digest, what):
    try:
        return json.loads(client.content_read(digest).decode('utf-8'))
    except NotFoundError:
        raise NotFoundError('%s %s is missing from the content store' % (what, digest))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ContainerdError('%s %s in the content store is not valid JSON: %s' % (what, digest, exc))


def _resolve_manifest(client, target, platform):
    """Walk from an image target through indexes to the manifest for `platform`; return (descriptor, manifest)."""
    desc = {'mediaType': target.media_type, 'digest': target.digest, 'size': target.size}
    for _depth in range(5):
        if desc['mediaType'] not in INDEX_TYPES:
            return desc, read_json_blob(client, desc['digest'], 'manifest')
        index = read_json_blob(client, desc['digest'], 'image index')
        chosen = None
        for child in index.get('manifests') or []:
            have = child.get('platform')
            if have is None:
                have = _stored_manifest_platform(client, child)
            if have is not None and platform_matches(platform, have):
                chosen = child
                break
        if chosen is None:
            raise NotFoundError('image index %s has no manifest for platform %s'
                                % (desc['digest'], platform_string(platform)))
        desc = {'mediaType': chosen.get('mediaType', ''), 'digest': chosen['digest'], 'size': chosen.get('size', 0)}
    raise ContainerdError('image indexes nested too deep at %s' % desc['digest'])


def _stored_manifest_platform(client, desc):
    if desc.get('mediaType') in INDEX_TYPES:
        return None
    try:
        manifest = read_json_blob(client, desc['digest'], 'manifest')
        return read_json_blob(client, manifest['config']['digest'], 'image config')
    except (NotFoundError, KeyError, TypeError):
        return None


def lookup_image(client, name):
    """The image record for `name` as given, else for its normalised form; None when neither exists."""
    record = client.get_image(name)
    if record is None:
        try:
            full = normalize_reference(name)
        except ValueError:
            return None
        if full != name:
            record = client.get_image(full)
    return record


def get_image_config(client, image_name, snapshotter='overlayfs', platform=None, unpack=True):
    """Everything container creation needs from an image.

    Returns ImageConfig(image, manifest, config, chain_id): the image record, the host platform's manifest
    and image config as dicts, and the chainID of the top layer (the parent for Snapshots.Prepare of a
    container's root file system; '' for an image without layers).  With `unpack` (pass False in check
    mode), a snapshot missing from `snapshotter` is unpacked from stored content first.
    Raises NotFoundError when the image does not exist.
    """
    record = lookup_image(client, image_name)
    if record is None:
        raise NotFoundError('image "%s": not found' % image_name)
    _desc, manifest = _resolve_manifest(client, record.target, platform or host_platform())
    config = read_json_blob(client, manifest['config']['digest'], 'image config')
    diff_ids = (config.get('rootfs') or {}).get('diff_ids') or []
    chain = chain_ids(diff_ids)[-1] if diff_ids else ''
    if unpack and chain and client.stat_snapshot(snapshotter, chain) is None:
        unpack_image(client, record.name, snapshotter, platform)
    return ImageConfig(record, manifest, config, chain)


def unpack_image(client, image_name, snapshotter='overlayfs', platform=None):
    """Unpack an image whose content is already stored (e.g. after a snapshotter change); True if anything was done."""
    record = lookup_image(client, image_name)
    if record is None:
        raise NotFoundError('image "%s": not found' % image_name)
    _desc, manifest = _resolve_manifest(client, record.target, platform or host_platform())
    config_digest = manifest['config']['digest']
    config = read_json_blob(client, config_digest, 'image config')
    diff_ids = (config.get('rootfs') or {}).get('diff_ids') or []
    layers = [(layer['mediaType'], layer['digest'], layer['size']) for layer in manifest.get('layers') or []]
    if len(layers) != len(diff_ids):
        raise ContainerdError('image %s: %d layers but %d diff_ids' % (record.name, len(layers), len(diff_ids)))
    with Lease(client) as lease:
        did = _unpack(client, snapshotter, layers, diff_ids, lease.id)
        _label_config(client, snapshotter, config_digest, chain_ids(diff_ids))
    return did


# ---- writing --------------------------------------------------------------------------------------------


class Lease(object):
    """A containerd lease that protects half-written content and snapshots from GC; expires on its own if we die."""

    def __init__(self, client):
        self.client = client
        self.id = None

    def __enter__(self):
        self.id = self.client.create_lease({LABEL_GC_EXPIRE: _rfc3339(time.time() + LEASE_SECONDS)})
        return self

    def __exit__(self, *exc):
        try:
            self.client.delete_lease(self.id)
        except ContainerdError:
            if exc[0] is None:
                raise


def _unpack(client, snapshotter, layers, diff_ids, lease_id):
    """Apply each layer onto its parent's snapshot and commit it under its chainID; skip chains that exist."""
    did = False
    parent = ''
    for (media_type, digest, size), diff_id, chain in zip(layers, diff_ids, chain_ids(diff_ids)):
        if client.stat_snapshot(snapshotter, chain) is not None:
            parent = chain
            continue
        key = 'extract-%d-%s %s' % (time.time() * 1e9, os.urandom(4).hex(), chain)
        mounts = client.prepare_snapshot(snapshotter, key, parent, lease=lease_id)
        committed = False
        try:
            applied = client.apply_diff(_descriptor(client, media_type, digest, size), mounts, lease=lease_id,
                                        timeout=_deadline(client, size * 4))
            if applied.digest != diff_id:
                raise ArchiveError('archive layer %s unpacks to %s, but the image config says its diffID is %s'
                                   % (digest, applied.digest, diff_id))
            try:
                client.commit_snapshot(snapshotter, chain, key, lease=lease_id)
                committed = True
            except AlreadyExistsError:  # another import committed the same chain meanwhile
                pass
        finally:
            if not committed:
                try:
                    client.remove_snapshot(snapshotter, key)
                except ContainerdError:
                    pass
        did = True
        parent = chain
    return did


def _label_config(client, snapshotter, config_digest, chains):
    """Point the config at the top snapshot, which keeps the unpacked layers alive once the lease is gone."""
    if not chains:
        return
    key = LABEL_GC_SNAPSHOT % snapshotter
    info = client.content_info(config_digest)
    if info is None or info.labels.get(key) != chains[-1]:
        client.content_update_labels(config_digest, {key: chains[-1]})


class Importer(object):
    """Import one image from an archive on this host; `pending()` says what is missing, `apply()` does it."""

    def __init__(self, client, snapshotter):
        self.client = client
        self.snapshotter = snapshotter

    def pending(self, name, plan):
        """The steps an import still needs, as short phrases; empty when the image is fully in place."""
        client = self.client
        steps = []
        record = client.get_image(name)
        if record is None:
            steps.append('create image record')
        elif record.target.digest != plan.target['digest'] or record.target.media_type != plan.target['mediaType']:
            steps.append('retarget image record')
        for blob in plan.blobs:
            info = client.content_info(blob.digest)
            if info is None:
                steps.append('write %s' % blob.digest)
            elif _missing_labels(info.labels, blob.labels):
                steps.append('label %s' % blob.digest)
        if plan.chain_ids:
            top = plan.chain_ids[-1]
            if client.stat_snapshot(self.snapshotter, top) is None:
                steps.append('unpack %s' % top)
            info = client.content_info(plan.config_blob.digest)
            if info is None or info.labels.get(LABEL_GC_SNAPSHOT % self.snapshotter) != top:
                steps.append('label config with snapshot')
        return steps

    def apply(self, archive, name, plan):
        client = self.client
        with Lease(client) as lease:
            for blob in plan.blobs:
                self._store(archive, blob, lease.id)
            self._set_record(name, plan.target, lease.id)
            layers = [(b.media_type, b.digest, b.size) for b in plan.layer_blobs]
            _unpack(client, self.snapshotter, layers, plan.diff_ids, lease.id)
            _label_config(client, self.snapshotter, plan.config_blob.digest, plan.chain_ids)

    def _store(self, archive, blob, lease_id):
        client = self.client
        info = client.content_info(blob.digest)
        if info is None:
            ref = 'ctrd-import-%s-%s' % (lease_id, blob.digest)
            try:
                client.content_write(ref, archive.iter_blob(blob), blob.size, blob.digest, labels=blob.labels,
                                     lease=lease_id, timeout=_deadline(client, blob.size))
                return
            except AlreadyExistsError:
                info = client.content_info(blob.digest)
            except (FailedPreconditionError, InvalidArgumentError) as exc:
                raise ArchiveError('archive %s: blob %s does not match its digest or size: %s'
                                   % (archive.path, blob.digest, getattr(exc, 'details', exc)))
        missing = _missing_labels(info.labels if info is not None else {}, blob.labels)
        if missing:
            client.content_update_labels(blob.digest, missing)

    def _set_record(self, name, target, lease_id):
        client = self.client
        image = client.msg('containerd.services.images.v1.Image', name=name)
        image.target.CopyFrom(_descriptor(client, target['mediaType'], target['digest'], target['size']))
        record = client.get_image(name)
        if record is not None:
            if record.target.digest != target['digest'] or record.target.media_type != target['mediaType']:
                client.update_image(image, ['target'], lease=lease_id)
            return
        try:
            client.create_image(image, lease=lease_id)
        except AlreadyExistsError:
            client.update_image(image, ['target'], lease=lease_id)


def _missing_labels(have, want):
    return dict((k, v) for k, v in want.items() if have.get(k) != v)


def image_facts(name, plan):
    """What the module returns about an imported image."""
    return {'name': name, 'digest': plan.target['digest'], 'media_type': plan.target['mediaType'],
            'size': plan.size, 'platform': plan.platform, 'config_digest': plan.config_blob.digest,
            'chain_id': plan.chain_ids[-1] if plan.chain_ids else ''}


def import_archive(client, path, name, snapshotter='overlayfs', check_mode=False, platform=None):
    """Make image `name` (normalised) the image in archive `path` on this host, unpacked into `snapshotter`.

    Returns dict(changed, before, after, image, steps).  `before`/`after` hold the image's target digest
    (None when absent).  In check mode nothing is written and `changed` is what a real run would report.
    """
    record = client.get_image(name)
    before = record.target.digest if record is not None else None
    with Archive(path) as archive:
        plan = archive.plan(name, normalize_reference, platform or host_platform())
        importer = Importer(client, snapshotter)
        steps = importer.pending(name, plan)
        if steps and not check_mode:
            importer.apply(archive, name, plan)
    return {'changed': bool(steps), 'before': before, 'after': plan.target['digest'],
            'image': image_facts(name, plan), 'steps': steps}


def remove_image(client, name, check_mode=False):
    """Delete the image record (containerd's GC then reclaims content and snapshots nothing else uses)."""
    record = client.get_image(name)
    if record is None:
        return {'changed': False, 'before': None, 'after': None}
    if not check_mode:
        try:
            client.delete_image(name)
        except NotFoundError:
            pass
    return {'changed': True, 'before': record.target.digest, 'after': None}


# ---- the containerd_image module's policy ------------------------------------------------------------


def run_module(cm):
    """Policy for containerd_image: state present imports `archive`, state absent removes the record."""
    p = cm.params
    try:
        name = normalize_reference(p['name'])
    except ValueError as exc:
        raise UserError('name %s: %s' % (p['name'], exc))
    client = cm.client
    if p['state'] == 'absent':
        res = remove_image(client, name, cm.check_mode)
        image = {}
    else:
        res = import_archive(client, p['archive'], name, p['snapshotter'], cm.check_mode)
        image = res['image']
    result = {'changed': res['changed'], 'image': image}
    if cm.diff_mode:
        incomplete = p['state'] == 'present' and res['changed'] and res['before'] == res['after']
        result['diff'] = {'before': _diff_side(name, res['before'], incomplete),
                          'after': _diff_side(name, res['after'], False)}
    return result


def _diff_side(name, digest, incomplete):
    if digest is None:
        return {'name': name, 'state': 'absent'}
    side = {'name': name, 'state': 'present', 'digest': digest}
    if incomplete:
        side['complete'] = False
    return side
