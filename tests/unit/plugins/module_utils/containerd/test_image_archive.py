# -*- coding: utf-8 -*-
# Copyright (c) ctrd.containerd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Archive parsing and import planning (oci_archive.py) and image-name normalisation, on archives written by
the test image builder (tests/images/build_image.py) with a stand-in busybox, so no containerd is needed."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import gzip
import hashlib
import importlib.util
import io
import json
import os
import tarfile

import pytest

from ansible_collections.ctrd.containerd.plugins.module_utils.containerd import oci_archive as A
from ansible_collections.ctrd.containerd.plugins.module_utils.containerd.image import normalize_reference

HERE = os.path.dirname(os.path.abspath(__file__))
BUILDER = os.path.join(HERE, '..', '..', '..', '..', 'images', 'build_image.py')
NAME = 'localhost/ctrd-test/busybox:latest'


def _load_builder():
    spec = importlib.util.spec_from_file_location('ctrd_build_image', BUILDER)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


B = _load_builder()
HOST = {'os': 'linux', 'architecture': B.host_arch()}


def sha(data):
    return 'sha256:' + hashlib.sha256(data).hexdigest()


def images(**kwargs):
    return B.build_images(b'\x7fELF fake busybox', ['ls', 'sh'], **kwargs)


@pytest.fixture
def oci(tmp_path):
    path = str(tmp_path / 'oci.tar')
    imgs = images()
    B.write_oci(path, NAME, imgs)
    return path, imgs[0]


def plan_of(path, name=NAME, platform=None):
    with A.Archive(path) as archive:
        return archive.plan(name, normalize_reference, platform or HOST)


def write_tar(path, files):
    with tarfile.open(path, 'w') as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def test_chain_ids_follow_containerd_rule():
    a, b = 'sha256:' + 'a' * 64, 'sha256:' + 'b' * 64
    assert A.chain_ids([]) == []
    assert A.chain_ids([a]) == [a]
    assert A.chain_ids([a, b]) == [a, sha((a + ' ' + b).encode())]


def test_builder_is_reproducible(tmp_path):
    one, two = str(tmp_path / '1.tar'), str(tmp_path / '2.tar')
    B.write_oci(one, NAME, images(two_layers=True))
    B.write_oci(two, NAME, images(two_layers=True))
    with open(one, 'rb') as f1, open(two, 'rb') as f2:
        assert f1.read() == f2.read()


def test_oci_plan_targets_the_manifest_with_gc_labels(oci):
    path, img = oci
    plan = plan_of(path)
    assert plan.target == {'mediaType': A.MT_OCI_MANIFEST, 'digest': sha(img.manifest), 'size': len(img.manifest)}
    layer, config, manifest = plan.blobs
    assert layer.digest == sha(img.gz_layers[0]) and layer.labels == {A.LABEL_UNCOMPRESSED: img.diff_ids[0]}
    assert config.digest == sha(img.config) and config.labels == {}
    assert manifest.labels == {A.LABEL_GC_CONFIG: config.digest, 'containerd.io/gc.ref.content.l.0': layer.digest}
    assert plan.chain_ids == img.diff_ids
    assert plan.platform == 'linux/' + B.host_arch()
    assert plan.size == len(img.manifest) + len(img.config) + len(img.gz_layers[0])


def test_blobs_stream_in_chunks_and_reassemble(oci):
    path, img = oci
    with A.Archive(path) as archive:
        plan = archive.plan(NAME, normalize_reference, HOST)
        chunks = list(archive.iter_blob(plan.blobs[0], chunk=100))
    assert len(chunks) > 1 and max(len(c) for c in chunks) == 100
    assert b''.join(chunks) == img.gz_layers[0]


def test_multi_platform_index_is_the_target_and_only_the_host_manifest_is_stored(tmp_path):
    path = str(tmp_path / 'multi.tar')
    imgs = images(two_layers=True, multi_platform=True)
    B.write_oci(path, NAME, imgs)
    plan = plan_of(path)
    assert plan.target['mediaType'] == A.MT_OCI_INDEX
    index_blob = plan.blobs[-1]
    assert index_blob.digest == plan.target['digest']
    assert index_blob.labels == {'containerd.io/gc.ref.content.m.0': sha(imgs[0].manifest),
                                 'containerd.io/gc.ref.content.m.1': sha(imgs[1].manifest)}
    assert plan.blobs[-2].digest == sha(imgs[0].manifest)
    assert sha(imgs[1].config) not in [b.digest for b in plan.blobs]
    assert len(plan.chain_ids) == 2
    with pytest.raises(A.ArchiveError, match=r'no image for platform linux/mips64 in it \(it has linux/'):
        plan_of(path, platform={'os': 'linux', 'architecture': 'mips64'})


def test_docker_save_is_converted_like_containerd(tmp_path):
    path = str(tmp_path / 'docker.tar')
    img = images()[0]
    B.write_docker(path, NAME, [img])
    plan = plan_of(path, 'localhost/ctrd-test/busybox')
    layer, config, manifest = plan.blobs
    assert layer.media_type == A.MT_DOCKER_LAYER and layer.digest == img.diff_ids[0] and layer.size == len(img.layers[0])
    assert config.data == img.config and config.media_type == A.MT_DOCKER_CONFIG
    expected = ('{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",'
                '"config":{"mediaType":"application/vnd.docker.container.image.v1+json","digest":"%s","size":%d},'
                '"layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar","digest":"%s","size":%d}]}'
                % (sha(img.config), len(img.config), img.diff_ids[0], len(img.layers[0]))).encode()
    assert manifest.data == expected
    assert plan.target == {'mediaType': A.MT_DOCKER_MANIFEST, 'digest': sha(expected), 'size': len(expected)}


def test_docker_save_with_gzip_layers_and_several_images(tmp_path):
    img = images()[0]
    gz = gzip.compress(img.layers[0])
    config2 = json.dumps(dict(json.loads(img.config), os='linux', comment='two')).encode()
    files = {'c1.json': img.config, 'c2.json': config2, 'l/layer.tar': gz,
             'manifest.json': json.dumps([
                 {'Config': 'c1.json', 'RepoTags': ['one:latest'], 'Layers': ['l/layer.tar']},
                 {'Config': 'c2.json', 'RepoTags': ['docker.io/library/two:1'], 'Layers': ['l/layer.tar']}]).encode()}
    path = str(tmp_path / 'multi-docker.tar')
    write_tar(path, files)
    plan = plan_of(path, 'docker.io/library/two:1')
    assert plan.config_blob.digest == sha(config2)
    assert plan.layer_blobs[0].media_type == A.MT_DOCKER_LAYER_GZIP
    assert plan.layer_blobs[0].digest == sha(gz)
    with A.Archive(path) as archive:
        assert archive.names(normalize_reference) == ['docker.io/library/one:latest', 'docker.io/library/two:1']
    with pytest.raises(A.ArchiveError, match='no image named docker.io/library/three:latest in it; it holds '
                                             'docker.io/library/one:latest, docker.io/library/two:1'):
        plan_of(path, 'docker.io/library/three:latest')


def test_single_image_archive_imports_under_any_name(oci):
    path, img = oci
    assert plan_of(path, 'example.com/other:1').target['digest'] == sha(img.manifest)


def test_bare_ref_name_is_a_tag_not_an_image_name(tmp_path, oci):
    path, img = oci
    with A.Archive(path) as archive:
        index = json.loads(archive._read_member(archive.members['index.json']))
        blobs = dict((n, archive._read_member(i)) for n, i in archive.members.items() if n.startswith('blobs/sha256/'))
    del index['manifests'][0]['annotations'][A.ANNOTATION_CONTAINERD_NAME]
    path2 = str(tmp_path / 'tag-only.tar')
    write_tar(path2, dict(blobs, **{'index.json': json.dumps(index).encode(), 'oci-layout': b'{}'}))
    with A.Archive(path2) as archive:
        assert archive.names(normalize_reference) == []
    assert plan_of(path2).target['digest'] == sha(img.manifest)


@pytest.mark.parametrize('mutate, message', [
    (lambda f, img: f.pop('blobs/sha256/' + sha(img.config)[7:]), r'blobs/sha256/[0-9a-f]+ is missing'),
    (lambda f, img: f.update({'blobs/sha256/' + sha(img.config)[7:]: img.config + b' '}),
     r'blob sha256:[0-9a-f]+ has \d+ bytes, but its descriptor says'),
    (lambda f, img: f.update({'index.json': b'{nope'}), r'index.json \(index.json\) is not valid JSON'),
    (lambda f, img: f.pop('index.json'), 'neither an OCI image layout'),
])
def test_malformed_archives_name_the_archive(tmp_path, oci, mutate, message):
    path, img = oci
    with A.Archive(path) as archive:
        files = dict((n, archive._read_member(i, limit=1 << 30)) for n, i in archive.members.items() if i.isfile())
    mutate(files, img)
    broken = str(tmp_path / 'broken.tar')
    write_tar(broken, files)
    with pytest.raises(A.ArchiveError, match=r'^archive .*broken.tar.*' + message):
        plan_of(broken)


def test_config_must_list_one_diff_id_per_layer(tmp_path):
    img = images()[0]
    config = json.dumps({'rootfs': {'type': 'layers', 'diff_ids': []}}).encode()
    path = str(tmp_path / 'd.tar')
    write_tar(path, {'c.json': config, 'l.tar': img.layers[0],
                     'manifest.json': json.dumps([{'Config': 'c.json', 'Layers': ['l.tar']}]).encode()})
    with pytest.raises(A.ArchiveError, match='lists 0 diff_ids for 1 layers'):
        plan_of(path)


def test_unreadable_paths(tmp_path):
    text = tmp_path / 'text.tar'
    text.write_bytes(b'hello\n')
    with pytest.raises(A.ArchiveError, match='^archive .*text.tar is not a readable tar file'):
        A.Archive(str(text))
    with pytest.raises(A.ArchiveError, match='^archive .*missing.tar cannot be opened: No such file'):
        A.Archive(str(tmp_path / 'missing.tar'))


@pytest.mark.parametrize('name, expected', [
    ('busybox', 'docker.io/library/busybox:latest'),
    ('library/busybox:1.36', 'docker.io/library/busybox:1.36'),
    ('user/app', 'docker.io/user/app:latest'),
    ('index.docker.io/user/app:1', 'docker.io/user/app:1'),
    ('localhost/ctrd-test/busybox', 'localhost/ctrd-test/busybox:latest'),
    ('localhost:5000/a/b:c', 'localhost:5000/a/b:c'),
    ('registry.example.com/x@sha256:' + 'a' * 64, 'registry.example.com/x@sha256:' + 'a' * 64),
])
def test_normalize_reference(name, expected):
    assert normalize_reference(name) == expected


@pytest.mark.parametrize('name, message', [
    ('Busybox', 'invalid reference format: repository name must be lowercase'),
    ('a b', 'invalid reference format'),
    ('', 'invalid reference format'),
    ('x:', 'invalid reference format'),
])
def test_normalize_reference_rejects(name, message):
    with pytest.raises(ValueError, match='^' + message + '$'):
        normalize_reference(name)
