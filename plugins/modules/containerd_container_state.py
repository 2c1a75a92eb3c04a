#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) ctrd.containerd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: containerd_container_state
short_description: Start, stop, pause, restart or signal a containerd container, as nerdctl does
version_added: 0.1.0
description:
  - Drives an existing container (see M(ctrd.containerd.containerd_container)) into a run state with the
    semantics of C(nerdctl start), C(stop), C(pause), C(unpause), C(restart) and C(kill), so that nerdctl and
    this module can manage the same containers.
  - Starting re-points C(--net/--pid/--ipc=container:) namespaces at the target's current process (the
    target must be running), deletes the old task (which tears down its networking in the OCI poststop
    hook), creates and starts a new task, then labels it as nerdctl does.
  - Stopping marks the container explicitly stopped, removes its CNI networking, sends the stop signal,
    waits for the stop timeout and then sends SIGKILL. The wait is not bounded by O(timeout).
  - "Difference from nerdctl: stopping also removes the C(containerd.io/restart.status) label and starting
    writes it back as V(running). containerd's restart monitor only watches containers with that label, so a
    container with an V(always) or V(on-failure) restart policy stays stopped on every containerd version
    (with nerdctl, containerd 1.6 to 2.1 revive it within about 10 seconds)."
  - The stopped task is kept, as nerdctl keeps it; the next start or the removal of the container deletes it.
  - On failure of a start, stop or kill the error is recorded in the C(nerdctl/error) label, as nerdctl does.
extends_documentation_fragment:
  - ctrd.containerd.containerd
  - ctrd.containerd.containerd.attributes
attributes:
  check_mode:
    support: full
    details: Predicts C(changed) and the status; nothing is changed and RV(container) is the current state.
  diff_mode:
    support: full
    details: The container status before and after.
  idempotent:
    support: partial
    details: V(restarted) and V(killed) always change the container; the other states only when needed.
options:
  name:
    description:
      - Container name (the C(nerdctl/name) label), full ID, or an ID prefix, resolved as nerdctl resolves it.
    type: str
    required: true
  state:
    description:
      - V(started) - running afterwards. A paused container is resumed; a created or stopped one is started.
      - V(stopped) - not running afterwards. A paused container is resumed first so that it can handle the
        stop signal. A container that never ran stays as it is.
      - V(paused) - its processes frozen (C(nerdctl pause)). A container that is not running fails with
        C(container <id> is not running).
      - V(restarted) - stopped as for V(stopped), then started. Always changed.
      - V(killed) - sends O(signal) once without waiting (C(nerdctl kill)); the container must be running.
        Always changed.
      - With V(SIGKILL) this is nerdctl's kill (the container's CNI networking is removed and it is marked
        explicitly stopped). With any other signal, for example V(SIGHUP) to make a server reload, the
        container is expected to keep running, so its networking and restart labels are left alone.
    type: str
    required: true
    choices: [started, stopped, paused, restarted, killed]
  stop_timeout:
    description:
      - Seconds to wait after the stop signal before SIGKILL, for V(stopped) and V(restarted).
      - Default is the container's C(nerdctl/stop-timeout) label (C(nerdctl create --stop-timeout)), else 10.
      - V(0) or a negative number sends SIGKILL at once.
    type: int
  stop_signal:
    description:
      - Signal that asks the container to stop, for V(stopped) and V(restarted).
      - Default is the C(io.containerd.image.config.stop-signal) label (the image's C(StopSignal) or
        C(--stop-signal)), else V(SIGTERM).
      - A name with or without C(SIG), in any case (V(SIGINT), V(int)), or a number (V(2)).
    type: str
  signal:
    description:
      - Signal to send with V(killed). Default V(SIGKILL).
      - Parsed as C(nerdctl kill -s) parses it - C(SIG) is prepended unless the value starts with upper-case
        C(SIG), so V(HUP), V(hup) and V(SIGHUP) work, while numbers and V(sighup) do not.
    type: str
notes:
  - Containers are not locked against concurrent nerdctl commands, as nerdctl does not lock them for these verbs.
seealso:
  - module: ctrd.containerd.containerd_container
  - module: ctrd.containerd.containerd_container_info
author:
  - ctrd.containerd contributors (@ctrd-containerd)
'''

EXAMPLES = r'''
- name: Start a container (resumes it when paused)
  ctrd.containerd.containerd_container_state:
    name: web
    state: started

- name: Stop it, giving it 30 seconds after SIGQUIT
  ctrd.containerd.containerd_container_state:
    name: web
    state: stopped
    stop_timeout: 30
    stop_signal: SIGQUIT

- name: Make nginx reload its configuration, without stopping it
  ctrd.containerd.containerd_container_state:
    name: web
    state: killed
    signal: SIGHUP

- name: Restart and show the status change
  ctrd.containerd.containerd_container_state:
    name: web
    state: restarted
  diff: true
'''

RETURN = r'''
container:
  description:
    - The container after the change, in the shape M(ctrd.containerd.containerd_container_info) returns.
    - In check mode, the container as it is now.
  returned: success
  type: dict
  sample: {"id": "3f2a...", "name": "web", "status": "running", "pid": 4242}
exit_status:
  description: Exit status of the process that V(stopped) or V(restarted) stopped; V(null) when nothing was stopped.
  returned: success
  type: int
  sample: 143
'''

from ansible_collections.ctrd.containerd.plugins.module_utils.containerd.module import ContainerdModule
from ansible_collections.ctrd.containerd.plugins.module_utils.containerd.state import STATES, state_policy


def main():
    argument_spec = dict(
        name=dict(type='str', required=True),
        state=dict(type='str', required=True, choices=list(STATES)),
        stop_timeout=dict(type='int'),
        stop_signal=dict(type='str'),
        signal=dict(type='str'),
    )
    ContainerdModule(argument_spec, supports_check_mode=True).run(state_policy)


if __name__ == '__main__':
    main()
