"""Can kmspolicy be installed with this Python, on this machine? One line and exit 1 if not.

kmspolicy's embedded Rego engine, regopy 1.5, is a compiled extension published as wheels
only (PyPI, checked with `pip download regopy==1.5.2 --only-binary=:all: --platform …`):
CPython 3.11 to 3.14 on Linux x86_64 and aarch64 with glibc 2.34 or newer (Ubuntu 22.04,
Debian 12, RHEL 9, Amazon Linux 2023 and later), Linux x86_64 with musl (Alpine), macOS 15
or newer (arm64, x86_64) and Windows x86_64. Elsewhere pip falls back to building regopy
from source, which fails after minutes of compiler output; `make install` and the GitHub
Action run this first instead. Standard library only, so that any python3 can run it.

    python3 tools/check_platform.py          # exit 0 and no output when supported
KMSPOLICY_SKIP_PLATFORM_CHECK=1 skips it (a regopy built by other means).
"""

import os
import platform
import sys

SUPPORTED = ("CPython 3.11+ on Linux x86_64/aarch64 with glibc >= 2.34, Linux x86_64 with musl, "
             "macOS >= 15 (arm64, x86_64) or Windows x86_64")
DOCS = "see README.md, 'Install'"


def _version(text):
    parts = []
    for part in text.split("."):
        if not part.isdigit():
            break
        parts.append(int(part))
    return tuple(parts)


def problem(system=None, machine=None, libc=None, mac=None, python=None, implementation=None):
    """What stops the install here, or None. Arguments default to this machine's."""
    system = system if system is not None else platform.system()
    machine = (machine if machine is not None else platform.machine()).lower()
    python = python if python is not None else sys.version_info[:2]
    implementation = implementation if implementation is not None else platform.python_implementation()
    if tuple(python) < (3, 11):
        return f"kmspolicy needs Python 3.11 or newer (this is {python[0]}.{python[1]})"
    if implementation != "CPython":
        return f"regopy (the embedded Rego engine) has wheels for CPython only (this is {implementation})"
    if system == "Linux":
        libc = libc if libc is not None else platform.libc_ver()
        if libc[0] == "glibc":
            if machine not in ("x86_64", "aarch64", "arm64"):
                return f"regopy has no wheel for Linux {machine}"
            if _version(libc[1]) < (2, 34):
                return f"regopy has no wheel for glibc {libc[1]} (Linux needs glibc 2.34 or newer)"
            return None
        if machine != "x86_64":
            return f"regopy has no wheel for Linux {machine} without glibc (musl: x86_64 only)"
        return None
    if system == "Darwin":
        release = mac if mac is not None else platform.mac_ver()[0]
        if _version(release) < (15,):
            return f"regopy has no wheel for macOS {release} (macOS 15 or newer)"
        return None
    if system == "Windows":
        if machine not in ("amd64", "x86_64"):
            return f"regopy has no wheel for Windows {machine} (x86_64 only)"
        return None
    return f"regopy has no wheel for {system} {machine}"


def main():
    if os.environ.get("KMSPOLICY_SKIP_PLATFORM_CHECK"):
        return 0
    found = problem()
    if found is None:
        return 0
    sys.stderr.write(f"kmspolicy cannot be installed here: {found}; supported: {SUPPORTED} ({DOCS})\n")
    return 1


if __name__ == "__main__":
    sys.exit(main())
