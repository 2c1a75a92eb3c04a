# -*- coding: utf-8 -*-
# Copyright (c) ctrd.containerd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""load_json: parse + validate, warn-and-continue or fail, with and without the jsonschema library."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.ctrd.containerd.plugins.module_utils.containerd import schemas
from ansible_collections.ctrd.containerd.plugins.module_utils.containerd.errors import UserError

GOOD = [
    ('nerdctl/ports', '[{"HostPort":8080,"ContainerPort":80,"Protocol":"tcp","HostIP":"0.0.0.0"}]'),
    ('nerdctl/ports', 'null'),
    ('network-config.json', '{}'),
    ('network-config.json', '{"portMappings":[{"HostPort":1,"ContainerPort":2,"Protocol":"udp","HostIP":"::"}]}'),
    ('nerdctl/mounts', '[{"Type":"bind","Source":"/a","Destination":"/b","Mode":"","RW":true,"Propagation":""}]'),
    ('nerdctl/mounts.3', '{"Source":"/a","Destination":"/b","Mode":"ro","RW":false,"Propagation":""}'),
    ('nerdctl/anonymous-volumes', '["%s"]' % ('a' * 64)),
    ('nerdctl/ipc', '{"mode":"shareable","hostShmPath":"/x/shm","shmSize":"64m"}'),
    ('nerdctl/networks', '["bridge"]'),
    ('nerdctl/extraHosts', 'null'),
    ('nerdctl/extraHosts', '[]'),
    ('meta.json', '{"ID":"x","Networks":{"bridge":{"ips":[{"address":"10.4.0.2/24"}]}},"Hostname":"h",'
                  '"ExtraHosts":{"a":"1.1.1.1"},"Name":"n","Domainname":""}'),
    ('nerdctl/log-config', '{"driver":"json-file","address":"/run/containerd/containerd.sock"}'),
    ('/var/lib/nerdctl/x/containers/default/y/log-config.json', '{"driver":"json-file","opts":{"max-size":"1m"}}'),
    ('lifecycle.json', '{"started_at":"2024-01-01T00:00:00Z","create_error":false}'),
    ('volume.json', '{\n    "labels": null\n}'),
]

BAD = [
    ('nerdctl/ports', '[{"HostPort":"8080"}]', '$[0].HostPort'),
    ('nerdctl/ports', '{}', '$'),
    ('network-config.json', '[]', '$'),
    ('nerdctl/mounts', '[{"RW":"yes"}]', '$[0].RW'),
    ('nerdctl/anonymous-volumes', '[1]', '$[0]'),
    ('nerdctl/networks', '"bridge"', '$'),
    ('meta.json', '{"ExtraHosts":{"a":1}}', '$.ExtraHosts.a'),
    ('lifecycle.json', '{"create_error":"no"}', '$.create_error'),
    ('nerdctl/ipc', '{', None),
    ('nerdctl/ipc', '', None),
]


@pytest.fixture(params=['jsonschema', 'fallback'])
def validator(request, monkeypatch):
    """Run every case with the library and with the built-in fallback validator."""
    if request.param == 'fallback':
        monkeypatch.setattr(schemas, '_JSONSCHEMA', [None])
    else:
        assert schemas._jsonschema() is not None, 'the dev venv ships jsonschema'
    return request.param


@pytest.mark.parametrize('what, text', GOOD)
def test_valid_data_is_judged_by_the_built_in_validator_alone(what, text, monkeypatch):
    """jsonschema costs ~35 ms to import: data the built-in validator accepts must never need it."""
    monkeypatch.setattr(schemas, '_jsonschema', lambda: pytest.fail('jsonschema was consulted for valid data'))
    assert schemas.load_json(what, text) == schemas.json.loads(text)


@pytest.mark.parametrize('what, text', GOOD)
def test_good(validator, what, text):
    warnings = []
    value = schemas.load_json(what, text, warnings.append)
    assert warnings == []
    assert value is None or isinstance(value, (list, dict))
    assert value == schemas.load_json(what, text)


@pytest.mark.parametrize('what, text, where', BAD)
def test_bad_warns_and_returns_none(validator, what, text, where):
    warnings = []
    assert schemas.load_json(what, text, warnings.append) is None
    assert len(warnings) == 1
    assert warnings[0].startswith(what + ': ')
    if where is not None:
        assert warnings[0].startswith('%s: %s: ' % (what, where))
    with pytest.raises(UserError) as exc:
        schemas.load_json(what, text)
    assert str(exc.value) == warnings[0]


def test_truncated_json_uses_go_wording():
    warnings = []
    schemas.load_json('nerdctl/ipc', '', warnings.append)
    schemas.load_json('nerdctl/ipc', '{"mode":', warnings.append)
    assert warnings == ['nerdctl/ipc: unexpected end of JSON input'] * 2


def test_unknown_source_has_no_schema():
    with pytest.raises(KeyError):
        schemas.schema_for('nerdctl/whatever')
