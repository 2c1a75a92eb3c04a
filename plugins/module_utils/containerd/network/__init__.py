# -*- coding: utf-8 -*-
# Copyright (c) ctrd.containerd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Container networking as nerdctl does it: CNI conflists, a small CNI runtime and the OCI hook program.

Everything in this package (except install.py) also runs inside the hook program, outside Ansible,
so it imports only the standard library and sibling modules.
"""
