# -*- coding: utf-8 -*-
# Copyright (c) ctrd.containerd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading image archives: an OCI image-layout tar or a `docker save` tar, turned into an import plan.

Pure file work (stdlib only, no containerd): the plan says which blobs to store, with which garbage
collection labels, under which target descriptor, and which layers to unpack.  Keeping it apart from
the gRPC side makes the parsing unit-testable and lets check mode decide without writing anything.

`docker save` archives carry no manifest; one is synthesised the way containerd's own importer does
(a Docker schema 2 manifest, config and layer files kept byte-for-byte, compact JSON), so importing the
same archive twice, or with `ctr images import`, lands on the same manifest digest.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import hashlib
import json
import posixpath
import tarfile

from .errors import UserError

MT_OCI_INDEX = 'application/vnd.oci.image.index.v1+json'
MT_OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json'
MT_DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json'
MT_DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json'
MT_DOCKER_CONFIG = 'application/vnd.docker.container.image.v1+json'
MT_DOCKER_LAYER = 'application/vnd.docker.image.rootfs.diff.tar'
MT_DOCKER_LAYER_GZIP = 'application/vnd.docker.image.rootfs.diff.tar.gzip'
MT_OCI_LAYER_ZSTD = 'application/vnd.oci.image.layer.v1.tar+zstd'
INDEX_TYPES = (MT_OCI_INDEX, MT_DOCKER_LIST)
MANIFEST_TYPES = (MT_OCI_MANIFEST, MT_DOCKER_MANIFEST)

ANNOTATION_CONTAINERD_NAME = 'io.containerd.image.name'
ANNOTATION_REF_NAME = 'org.opencontainers.image.ref.name'

LABEL_GC_CONFIG = 'containerd.io/gc.ref.content.config'
LABEL_GC_LAYER = 'containerd.io/gc.ref.content.l.%d'
LABEL_GC_MANIFEST = 'containerd.io/gc.ref.content.m.%d'
LABEL_UNCOMPRESSED = 'containerd.io/uncompressed'

CHUNK = 1024 * 1024
MAX_JSON = 8 * 1024 * 1024  # manifests, indexes and configs are small; refuse to slurp a layer as JSON
MAX_NESTING = 4


class ArchiveError(UserError):
    """The archive is unreadable or malformed; the message names the `archive` option."""


def chain_ids(diff_ids):
    """containerd's snapshot names: chainID(L0) = diffID(L0), chainID(Ln) = sha256(chainID(Ln-1) + ' ' + diffID(Ln))."""
    out = []
    for diff_id in diff_ids:
        if out:
            diff_id = 'sha256:' + hashlib.sha256((out[-1] + ' ' + diff_id).encode('ascii')).hexdigest()
        out.append(diff_id)
    return out


def compact_json(obj):
    """Go's json.Marshal layout (key order as given, no spaces), which containerd uses for the manifests it writes."""
    return json.dumps(obj, separators=(',', ':')).encode('utf-8')


def platform_string(platform):
    text = '%s/%s' % (platform.get('os', ''), platform.get('architecture', ''))
    if platform.get('variant'):
        text += '/' + platform['variant']
    return text


def platform_matches(wanted, have):
    """Match os, architecture and (when both name one) variant; arm64 images usually omit `v8`."""
    if have.get('os') != wanted.get('os') or have.get('architecture') != wanted.get('architecture'):
        return False
    want_var, have_var = wanted.get('variant') or '', have.get('variant') or ''
    if not want_var or not have_var:
        return True
    return want_var == have_var


class Blob(object):
    """One piece of content to store: where it comes from (tar member or bytes) and the labels it needs."""

    def __init__(self, digest, size, media_type, member=None, data=None, labels=None):
        self.digest = digest
        self.size = size
        self.media_type = media_type
        self.member = member
        self.data = data
        self.labels = dict(labels or {})

    def descriptor(self):
        return {'mediaType': self.media_type, 'digest': self.digest, 'size': self.size}


class ImportPlan(object):
    """What importing one image from an archive means, decided before anything is written."""

    def __init__(self, target, blobs, manifest, config, config_blob, layer_blobs, platform):
        self.target = target            # descriptor dict the image record points at
        self.blobs = blobs              # every Blob to store, children before parents
        self.manifest = manifest        # the selected platform's manifest (dict)
        self.config = config            # its image config (dict)
        self.config_blob = config_blob
        self.layer_blobs = layer_blobs
        self.diff_ids = list(config.get('rootfs', {}).get('diff_ids') or [])
        self.chain_ids = chain_ids(self.diff_ids)
        self.platform = platform        # e.g. linux/amd64

    @property
    def size(self):
        """Content size of the selected platform (index, manifest, config, layers), as `ctr images ls` counts it."""
        return sum(b.size for b in self.blobs)


class Archive(object):
    """An open image archive on the local file system (a plain or compressed tar)."""

    def __init__(self, path):
        self.path = path
        try:
            self.tar = tarfile.open(path, 'r:*')
        except (tarfile.TarError, EOFError) as exc:
            raise ArchiveError('archive %s is not a readable tar file (plain, gzip, bzip2 or xz): %s'
                               % (path, _tar_reason(exc)))
        except (IOError, OSError) as exc:
            raise ArchiveError('archive %s cannot be opened: %s' % (path, exc.strerror or exc))
        try:
            self.members = {}
            for info in self.tar.getmembers():
                self.members[posixpath.normpath(info.name.lstrip('/'))] = info
        except (tarfile.TarError, EOFError, IOError, OSError) as exc:
            self.tar.close()
            raise ArchiveError('archive %s is not a readable tar file: %s' % (path, exc))
        if 'index.json' in self.members:
            self.format = 'oci'
        elif 'manifest.json' in self.members:
            self.format = 'docker'
        else:
            self.tar.close()
            raise ArchiveError('archive %s is neither an OCI image layout (no index.json) nor a docker save archive '
                               '(no manifest.json)' % path)

    def close(self):
        self.tar.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ---- members ------------------------------------------------------------------------------------

    def _fail(self, what):
        raise ArchiveError('archive %s: %s' % (self.path, what))

    def _member(self, name, depth=0):
        """The regular-file member at `name`, following symlinks inside the archive (docker save uses them)."""
        info = self.members.get(posixpath.normpath(name.lstrip('/')))
        if info is None:
            self._fail('%s is missing' % name)
        if info.issym() and depth < 10:
            return self._member(posixpath.join(posixpath.dirname(info.name), info.linkname), depth + 1)
        if info.islnk() and depth < 10:
            return self._member(info.linkname, depth + 1)
        if not info.isfile():
            self._fail('%s is not a regular file' % name)
        return info

    def _read_member(self, info, limit=MAX_JSON):
        if info.size > limit:
            self._fail('%s is too large (%d bytes) for a JSON document' % (info.name, info.size))
        handle = self.tar.extractfile(info)
        try:
            return handle.read()
        finally:
            handle.close()

    def _json(self, info, what):
        try:
            return json.loads(self._read_member(info).decode('utf-8'))
        except (ValueError, UnicodeDecodeError) as exc:
            self._fail('%s (%s) is not valid JSON: %s' % (what, info.name, exc))

    @staticmethod
    def _blob_path(digest):
        alg, sep, hexpart = (digest or '').partition(':')
        if not sep or not alg or not hexpart or '/' in digest:
            return None
        return 'blobs/%s/%s' % (alg, hexpart)

    def _blob_member(self, desc):
        path = self._blob_path(desc.get('digest'))
        if path is None:
            self._fail('invalid digest %r in a descriptor' % desc.get('digest'))
        info = self._member(path)
        if desc.get('size') is not None and info.size != desc['size']:
            self._fail('blob %s has %d bytes, but its descriptor says %s' % (desc['digest'], info.size, desc['size']))
        return info

    def iter_blob(self, blob, chunk=CHUNK):
        """Yield the blob's bytes in chunks, never holding a whole layer in memory."""
        if blob.data is not None:
            for start in range(0, len(blob.data), chunk):
                yield blob.data[start:start + chunk]
            return
        handle = self.tar.extractfile(blob.member)
        try:
            while True:
                data = handle.read(chunk)
                if not data:
                    break
                yield data
        finally:
            handle.close()

    def _digest_member(self, info):
        h = hashlib.sha256()
        handle = self.tar.extractfile(info)
        try:
            while True:
                data = handle.read(CHUNK)
                if not data:
                    break
                h.update(data)
        finally:
            handle.close()
        return 'sha256:' + h.hexdigest()

    # ---- planning -----------------------------------------------------------------------------------

    def names(self, normalize):
        """The image names the archive carries, normalised; names that do not parse are left out."""
        return sorted(set(n for n, _entry in self._named_entries(normalize) if n))

    def _named_entries(self, normalize):
        out = []
        if self.format == 'oci':
            index = self._json(self._member('index.json'), 'index.json')
            for entry in index.get('manifests') or []:
                ann = entry.get('annotations') or {}
                raw = ann.get(ANNOTATION_CONTAINERD_NAME) or ''
                ref_name = ann.get(ANNOTATION_REF_NAME) or ''
                if not raw and ('/' in ref_name or ':' in ref_name):  # a bare ref.name is only a tag
                    raw = ref_name
                out.append((_try_normalize(normalize, raw), entry))
        else:
            entries = self._json(self._member('manifest.json'), 'manifest.json')
            if not isinstance(entries, list):
                self._fail('manifest.json is not a list of images')
            for entry in entries:
                tags = [_try_normalize(normalize, t) for t in (entry.get('RepoTags') or [])]
                tags = [t for t in tags if t] or [None]
                for tag in tags:
                    out.append((tag, entry))
        return out

    def _select_entries(self, name, normalize):
        named = self._named_entries(normalize)
        if not named:
            self._fail('it holds no image')
        matching = [entry for n, entry in named if n == name]
        if matching:
            return matching
        distinct = set(id(entry) for _n, entry in named)
        names = sorted(set(n for n, _entry in named if n))
        if len(distinct) == 1 or not names:
            return _unique([entry for _n, entry in named])
        self._fail('no image named %s in it; it holds %s' % (name, ', '.join(names)))

    def plan(self, name, normalize, platform):
        """Decide what to import for image `name` (already normalised) on `platform` (dict os/architecture/variant)."""
        entries = self._select_entries(name, normalize)
        if self.format == 'docker':
            if len(entries) > 1:
                self._fail('it holds %d unnamed images; give it one image per archive' % len(entries))
            return self._plan_docker(entries[0], platform)
        return self._plan_oci(entries, platform)

    def _plan_oci(self, entries, platform):
        parents = []      # index blobs from the top down
        if len(entries) == 1:
            target = _clean_descriptor(entries[0])
            desc = target
        else:
            target = None
            desc = self._pick_platform(entries, platform)
        depth = 0
        while desc.get('mediaType') in INDEX_TYPES:
            depth += 1
            if depth > MAX_NESTING:
                self._fail('image indexes are nested more than %d deep' % MAX_NESTING)
            info = self._blob_member(desc)
            index = self._json(info, 'index %s' % desc['digest'])
            children = index.get('manifests') or []
            labels = dict((LABEL_GC_MANIFEST % i, c.get('digest', '')) for i, c in enumerate(children) if c.get('digest'))
            parents.append(Blob(desc['digest'], info.size, desc['mediaType'], member=info, labels=labels))
            desc = self._pick_platform(children, platform)
        if desc.get('mediaType') not in MANIFEST_TYPES:
            self._fail('unsupported media type %r for %s' % (desc.get('mediaType'), desc.get('digest')))
        if target is None:
            target = _clean_descriptor(desc)
        info = self._blob_member(desc)
        manifest = self._json(info, 'manifest %s' % desc['digest'])
        config_desc = manifest.get('config') or {}
        config_info = self._blob_member(config_desc)
        config = self._json(config_info, 'image config %s' % config_desc.get('digest'))
        layers = manifest.get('layers') or []
        diff_ids = self._check_config(config, len(layers))
        layer_blobs = []
        for i, layer in enumerate(layers):
            layer_info = self._blob_member(layer)
            layer_blobs.append(Blob(layer['digest'], layer_info.size, layer.get('mediaType', ''), member=layer_info,
                                    labels={LABEL_UNCOMPRESSED: diff_ids[i]}))
        config_blob = Blob(config_desc['digest'], config_info.size, config_desc.get('mediaType', ''), member=config_info)
        manifest_blob = Blob(desc['digest'], info.size, desc['mediaType'], member=info,
                             labels=_manifest_labels(config_blob, layer_blobs))
        blobs = layer_blobs + [config_blob, manifest_blob] + list(reversed(parents))
        return ImportPlan(target, blobs, manifest, config, config_blob, layer_blobs, _config_platform(config))

    def _pick_platform(self, children, platform):
        """The first manifest for `platform`; a child without a platform field is judged by its config."""
        for child in children:
            have = child.get('platform')
            if have is None and child.get('mediaType') in MANIFEST_TYPES:
                have = self._manifest_platform(child)
            if have is not None and platform_matches(platform, have):
                return child
        for child in children:  # a nested index without platform may hold our platform
            if child.get('platform') is None and child.get('mediaType') in INDEX_TYPES:
                return child
        self._fail('no image for platform %s in it (it has %s)' % (
            platform_string(platform),
            ', '.join(sorted(set(platform_string(c.get('platform') or {}) for c in children))) or 'none'))

    def _manifest_platform(self, desc):
        path = self._blob_path(desc.get('digest'))
        if path is None or posixpath.normpath(path) not in self.members:
            return None
        manifest = self._json(self._blob_member(desc), 'manifest %s' % desc['digest'])
        config_desc = manifest.get('config') or {}
        path = self._blob_path(config_desc.get('digest'))
        if path is None or posixpath.normpath(path) not in self.members:
            return None
        return self._json(self._blob_member(config_desc), 'image config %s' % config_desc['digest'])

    def _check_config(self, config, n_layers):
        if not isinstance(config, dict):
            self._fail('the image config is not a JSON object')
        diff_ids = (config.get('rootfs') or {}).get('diff_ids') or []
        if len(diff_ids) != n_layers:
            self._fail('the image config lists %d diff_ids for %d layers' % (len(diff_ids), n_layers))
        return diff_ids

    def _plan_docker(self, entry, platform):
        config_name = entry.get('Config')
        if not config_name:
            self._fail('an entry of manifest.json has no Config')
        config_info = self._member(config_name)
        config_data = self._read_member(config_info)
        try:
            config = json.loads(config_data.decode('utf-8'))
        except (ValueError, UnicodeDecodeError) as exc:
            self._fail('%s is not valid JSON: %s' % (config_name, exc))
        layer_names = entry.get('Layers') or []
        diff_ids = self._check_config(config, len(layer_names))
        config_blob = Blob('sha256:' + hashlib.sha256(config_data).hexdigest(), len(config_data), MT_DOCKER_CONFIG,
                           data=config_data)
        layer_blobs = []
        for i, layer_name in enumerate(layer_names):
            info = self._member(layer_name)
            media_type = self._layer_media_type(info)
            # An uncompressed layer's digest is its diffID; containerd checks it when the blob is committed.
            digest = diff_ids[i] if media_type == MT_DOCKER_LAYER else self._digest_member(info)
            layer_blobs.append(Blob(digest, info.size, media_type, member=info, labels={LABEL_UNCOMPRESSED: diff_ids[i]}))
        manifest = {'schemaVersion': 2, 'mediaType': MT_DOCKER_MANIFEST,
                    'config': config_blob.descriptor(), 'layers': [b.descriptor() for b in layer_blobs]}
        data = compact_json(manifest)
        manifest_blob = Blob('sha256:' + hashlib.sha256(data).hexdigest(), len(data), MT_DOCKER_MANIFEST, data=data,
                             labels=_manifest_labels(config_blob, layer_blobs))
        blobs = layer_blobs + [config_blob, manifest_blob]
        return ImportPlan(manifest_blob.descriptor(), blobs, manifest, config, config_blob, layer_blobs,
                          _config_platform(config))

    def _layer_media_type(self, info):
        handle = self.tar.extractfile(info)
        try:
            magic = handle.read(4)
        finally:
            handle.close()
        if magic[:2] == b'\x1f\x8b':
            return MT_DOCKER_LAYER_GZIP
        if magic == b'\x28\xb5\x2f\xfd':
            return MT_OCI_LAYER_ZSTD
        return MT_DOCKER_LAYER


def _tar_reason(exc):
    """tarfile's `r:*` error lists every decompressor it tried; the plain-tar attempt says what is wrong."""
    text = str(exc)
    for line in text.splitlines():
        if line.startswith('- method tar: '):
            return line[len('- method tar: '):]
    return text


def _manifest_labels(config_blob, layer_blobs):
    labels = {LABEL_GC_CONFIG: config_blob.digest}
    for i, layer in enumerate(layer_blobs):
        labels[LABEL_GC_LAYER % i] = layer.digest
    return labels


def _clean_descriptor(desc):
    return {'mediaType': desc.get('mediaType', ''), 'digest': desc.get('digest', ''), 'size': desc.get('size', 0)}


def _config_platform(config):
    return platform_string(config) if config.get('os') else ''


def _try_normalize(normalize, raw):
    if not raw:
        return None
    try:
        return normalize(raw)
    except ValueError:
        return None


def _unique(items):
    seen = set()
    out = []
    for item in items:
        if id(item) not in seen:
            seen.add(id(item))
            out.append(item)
    return out
