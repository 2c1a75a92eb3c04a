# -*- coding: utf-8 -*-
# Copyright (c) ctrd.containerd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Build small busybox test images without any registry, as OCI image-layout or `docker save` tars.

The tests must not depend on the network, so the root filesystem comes from the host's busybox-static
(/bin/busybox plus one symlink per applet).  Output is byte-for-byte reproducible: fixed mtimes and
owners, sorted entries, gzip mtime 0.  That makes re-imports land on the same digests, which is what
the idempotency tests of containerd_image rely on.

Usage: python3 build_image.py OUTPUT [--name REF] [--format oci|docker] [--config JSON] [--two-layers]
                              [--multi-platform] [--busybox PATH]
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import argparse
import gzip
import hashlib
import io
import json
import os
import platform
import subprocess
import sys
import tarfile

DEFAULT_NAME = 'localhost/ctrd-test/busybox:latest'
EPOCH = 1704067200  # 2024-01-01T00:00:00Z, the mtime of every entry
CREATED = '2024-01-01T00:00:00Z'
INDEX_HTML = b'<html><body>ctrd-test busybox httpd</body></html>\n'
LAYER2_TEXT = b'second layer\n'
MOTD = b'ctrd-test busybox\n'

PASSWD = (b'root:x:0:0:root:/root:/bin/sh\n'
          b'www:x:33:33:www:/www:/bin/false\n'
          b'app:x:1000:1000:app:/home/app:/bin/sh\n'
          b'nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n')
GROUP = (b'root:x:0:\n'
         b'www:x:33:\n'
         b'app:x:1000:\n'
         b'nogroup:x:65534:\n')

MT_OCI_INDEX = 'application/vnd.oci.image.index.v1+json'
MT_OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json'
MT_OCI_CONFIG = 'application/vnd.oci.image.config.v1+json'
MT_OCI_LAYER_GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip'

_ARCH = {'x86_64': 'amd64', 'amd64': 'amd64', 'aarch64': 'arm64', 'arm64': 'arm64', 'armv7l': 'arm',
         'i686': '386', 'i386': '386', 'ppc64le': 'ppc64le', 's390x': 's390x', 'riscv64': 'riscv64'}


def host_arch():
    """The GOARCH name of this machine, as image configs spell it."""
    machine = platform.machine()
    return _ARCH.get(machine, machine)


def sha256(data):
    return 'sha256:' + hashlib.sha256(data).hexdigest()


def canonical_json(obj):
    return json.dumps(obj, sort_keys=True, separators=(',', ':')).encode('utf-8')


class TarWriter(object):
    """A tar in memory whose entries all carry fixed owners and mtimes (sorted by the caller)."""

    def __init__(self):
        self.buf = io.BytesIO()
        self.tar = tarfile.open(fileobj=self.buf, mode='w', format=tarfile.GNU_FORMAT)

    def _info(self, name, kind, mode):
        info = tarfile.TarInfo(name)
        info.type = kind
        info.mode = mode
        info.mtime = EPOCH
        info.uid = info.gid = 0
        info.uname = info.gname = ''
        return info

    def add_dir(self, name, mode=0o755):
        self.tar.addfile(self._info(name.rstrip('/') + '/', tarfile.DIRTYPE, mode))

    def add_file(self, name, data, mode=0o644):
        info = self._info(name, tarfile.REGTYPE, mode)
        info.size = len(data)
        self.tar.addfile(info, io.BytesIO(data))

    def add_symlink(self, name, target):
        info = self._info(name, tarfile.SYMTYPE, 0o777)
        info.linkname = target
        self.tar.addfile(info)

    def getvalue(self):
        self.tar.close()
        return self.buf.getvalue()


def gzip_bytes(data):
    """gzip with mtime 0 and no file name, so the same input always gives the same bytes."""
    out = io.BytesIO()
    with gzip.GzipFile(filename='', mode='wb', fileobj=out, mtime=0, compresslevel=6) as gz:
        gz.write(data)
    return out.getvalue()


def busybox_applets(busybox):
    out = subprocess.check_output([busybox, '--list'])
    return sorted(set(a for a in out.decode('ascii').split() if a and a != 'busybox'))


def base_layer(busybox_data, applets):
    """The root filesystem: busybox, its applets, users, the httpd document root."""
    t = TarWriter()
    entries = []
    for d, mode in (('bin', 0o755), ('dev', 0o755), ('etc', 0o755), ('home', 0o755), ('home/app', 0o755),
                    ('proc', 0o755), ('root', 0o700), ('sys', 0o755), ('tmp', 0o1777), ('usr', 0o755),
                    ('usr/bin', 0o755), ('usr/sbin', 0o755), ('sbin', 0o755), ('var', 0o755), ('www', 0o755)):
        entries.append((d, 'dir', mode))
    entries.append(('bin/busybox', 'file', (busybox_data, 0o755)))
    for applet in applets:
        entries.append(('bin/' + applet, 'link', 'busybox'))
    entries.append(('etc/passwd', 'file', (PASSWD, 0o644)))
    entries.append(('etc/group', 'file', (GROUP, 0o644)))
    entries.append(('etc/motd', 'file', (MOTD, 0o644)))
    entries.append(('www/index.html', 'file', (INDEX_HTML, 0o644)))
    _write_sorted(t, entries)
    return t.getvalue()


def second_layer():
    """A layer on top: adds /layer2.txt and deletes /etc/motd with a whiteout, so unpack order matters."""
    t = TarWriter()
    _write_sorted(t, [('etc', 'dir', 0o755), ('etc/.wh.motd', 'file', (b'', 0o644)),
                      ('layer2.txt', 'file', (LAYER2_TEXT, 0o644))])
    return t.getvalue()


def _write_sorted(t, entries):
    for name, kind, arg in sorted(entries, key=lambda e: e[0]):
        if kind == 'dir':
            t.add_dir(name, arg)
        elif kind == 'file':
            t.add_file(name, arg[0], arg[1])
        else:
            t.add_symlink(name, arg)


def image_config(diff_ids, arch, overrides):
    """The image config JSON; `overrides` is merged into its `config` section (e.g. StopSignal, Cmd)."""
    config = {'Env': ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
              'Cmd': ['sh'], 'WorkingDir': '/'}
    config.update(overrides or {})
    history = [{'created': CREATED, 'created_by': 'tests/images/build_image.py layer %d' % (i + 1)}
               for i in range(len(diff_ids))]
    return {'architecture': arch, 'os': 'linux', 'created': CREATED, 'config': config,
            'rootfs': {'type': 'layers', 'diff_ids': diff_ids}, 'history': history}


class Image(object):
    """The blobs of one image for one platform: layer tars, config, manifest."""

    def __init__(self, layers, arch, overrides):
        self.layers = layers                      # uncompressed layer tars
        self.gz_layers = [gzip_bytes(x) for x in layers]
        self.diff_ids = [sha256(x) for x in layers]
        self.arch = arch
        self.config = canonical_json(image_config(self.diff_ids, arch, overrides))
        self.manifest = canonical_json({
            'schemaVersion': 2, 'mediaType': MT_OCI_MANIFEST,
            'config': {'mediaType': MT_OCI_CONFIG, 'digest': sha256(self.config), 'size': len(self.config)},
            'layers': [{'mediaType': MT_OCI_LAYER_GZIP, 'digest': sha256(x), 'size': len(x)} for x in self.gz_layers],
        })

    def oci_blobs(self):
        return [self.manifest, self.config] + self.gz_layers

    def manifest_descriptor(self, with_platform=False):
        desc = {'mediaType': MT_OCI_MANIFEST, 'digest': sha256(self.manifest), 'size': len(self.manifest)}
        if with_platform:
            desc['platform'] = {'architecture': self.arch, 'os': 'linux'}
        return desc


def build_images(busybox_data, applets, config=None, two_layers=False, multi_platform=False):
    """Return the host-platform Image plus, with multi_platform, a second one for a foreign arch."""
    layers = [base_layer(busybox_data, applets)]
    if two_layers:
        layers.append(second_layer())
    arch = host_arch()
    images = [Image(layers, arch, config)]
    if multi_platform:
        images.append(Image(layers, 's390x' if arch != 's390x' else 'amd64', config))
    return images


def _tag_of(name):
    last = name.rsplit('/', 1)[-1]
    return last.split(':', 1)[1] if ':' in last else 'latest'


def write_oci(path, name, images):
    """OCI image layout: oci-layout, index.json (named entry), blobs/sha256/<hex>."""
    blobs = {}
    for img in images:
        for data in img.oci_blobs():
            blobs[sha256(data)] = data
    if len(images) > 1:
        index = canonical_json({'schemaVersion': 2, 'mediaType': MT_OCI_INDEX,
                                'manifests': [i.manifest_descriptor(True) for i in images]})
        blobs[sha256(index)] = index
        top = {'mediaType': MT_OCI_INDEX, 'digest': sha256(index), 'size': len(index)}
    else:
        top = images[0].manifest_descriptor()
    top['annotations'] = {'io.containerd.image.name': name, 'org.opencontainers.image.ref.name': _tag_of(name)}
    files = {'oci-layout': canonical_json({'imageLayoutVersion': '1.0.0'}),
             'index.json': canonical_json({'schemaVersion': 2, 'mediaType': MT_OCI_INDEX, 'manifests': [top]})}
    for digest, data in blobs.items():
        files['blobs/sha256/' + digest.split(':', 1)[1]] = data
    _write_outer(path, files, ['blobs', 'blobs/sha256'])


def write_docker(path, name, images):
    """`docker save` layout: manifest.json with RepoTags, <config>.json, <id>/layer.tar (uncompressed)."""
    img = images[0]
    cfg_hex = sha256(img.config).split(':', 1)[1]
    files = {cfg_hex + '.json': img.config}
    dirs = []
    layer_paths = []
    for diff_id, data in zip(img.diff_ids, img.layers):
        layer_id = diff_id.split(':', 1)[1]
        dirs.append(layer_id)
        files[layer_id + '/layer.tar'] = data
        files[layer_id + '/VERSION'] = b'1.0'
        files[layer_id + '/json'] = canonical_json({'id': layer_id, 'created': CREATED})
        layer_paths.append(layer_id + '/layer.tar')
    repo = name.rsplit(':', 1)[0] if ':' in name.rsplit('/', 1)[-1] else name
    files['manifest.json'] = json.dumps([{'Config': cfg_hex + '.json', 'RepoTags': [name],
                                          'Layers': layer_paths}]).encode('utf-8')
    files['repositories'] = json.dumps({repo: {_tag_of(name): layer_paths[-1].split('/')[0]}}).encode('utf-8')
    _write_outer(path, files, dirs)


def _write_outer(path, files, dirs):
    t = TarWriter()
    entries = [(d, 'dir', 0o755) for d in dirs] + [(n, 'file', (data, 0o644)) for n, data in files.items()]
    _write_sorted(t, entries)
    tmp = path + '.tmp'
    with open(tmp, 'wb') as f:
        f.write(t.getvalue())
    os.rename(tmp, path)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', 1)[0])
    parser.add_argument('output', help='path of the tar to write')
    parser.add_argument('--name', default=DEFAULT_NAME, help='image reference stored in the archive')
    parser.add_argument('--format', choices=('oci', 'docker'), default='oci')
    parser.add_argument('--config', default='{}', help='JSON object merged into the image config (e.g. StopSignal)')
    parser.add_argument('--two-layers', action='store_true', help='add a second layer (file + whiteout)')
    parser.add_argument('--multi-platform', action='store_true', help='OCI only: an index with a foreign arch too')
    parser.add_argument('--busybox', default='/bin/busybox', help='statically linked busybox to use')
    args = parser.parse_args(argv)
    if args.multi_platform and args.format != 'oci':
        parser.error('--multi-platform needs --format oci')
    overrides = json.loads(args.config)
    if not isinstance(overrides, dict):
        parser.error('--config must be a JSON object')
    with open(args.busybox, 'rb') as f:
        busybox_data = f.read()
    images = build_images(busybox_data, busybox_applets(args.busybox), overrides, args.two_layers,
                          args.multi_platform)
    if args.format == 'oci':
        write_oci(args.output, args.name, images)
    else:
        write_docker(args.output, args.name, images)
    print(json.dumps({'path': args.output, 'name': args.name, 'format': args.format,
                      'manifest': sha256(images[0].manifest), 'config': sha256(images[0].config),
                      'diff_ids': images[0].diff_ids}))
    return 0


if __name__ == '__main__':
    sys.exit(main())
