#!/usr/bin/env python3
"""Checks that netlab's layers only look down (docs/architecture.md): every `#include "DIR/..."`
of a folder's sources names a folder that folder may use. The build checks the same of the
CMake targets' links (netlab_check_layers in CMakeLists.txt); this checks what the code includes,
which a link cannot show (a header-only use).

Usage: check_layers.py SOURCE_DIR."""
import pathlib
import re
import sys

# What each folder may include besides itself: the graph of docs/architecture.md.
ALLOWED = {
    "base": set(),
    "topo": {"base"},
    "netlink": {"base"},
    "nsmgr": {"base", "topo", "netlink", "image"},
    "capture": {"base", "topo", "netlink", "nsmgr"},
    "report": {"base", "topo", "nsmgr"},
    "web": {"base", "topo", "nsmgr", "report", "capture"},
    "image": {"base"},
    "tools": {"base", "topo", "netlink", "nsmgr", "capture", "report", "web", "image"},
    "bench": {"base", "topo", "netlink", "nsmgr"},
}
NODE_INIT = re.compile(r"nsmgr/node_init\.(cpp|hpp)$")

INCLUDE = re.compile(r'^\s*#\s*include\s+"([a-z_]+)/', re.MULTILINE)


def problems(source):
    for folder, allowed in ALLOWED.items():
        for path in sorted((source / folder).rglob("*.[ch]pp")):
            relative = path.relative_to(source).as_posix()
            text = path.read_text()
            if NODE_INIT.search(relative):
                # Runs inside a node and is linked into the static netlab-init: it may include
                # its own header and libc, the C++ standard library, nothing of netlab's.
                for match in re.finditer(r'^\s*#\s*include\s+"([^"]+)"', text, re.MULTILINE):
                    if match.group(1) != "nsmgr/node_init.hpp":
                        yield f"{relative}: includes {match.group(1)}; node_init uses libc only"
                continue
            for match in INCLUDE.finditer(text):
                target = match.group(1)
                if target not in allowed | {folder}:
                    line = text.count("\n", 0, match.start()) + 1
                    yield f"{relative}:{line}: includes {target}/, a layer {folder}/ may not use"


def main():
    source = pathlib.Path(sys.argv[1])
    found = list(problems(source))
    for problem in found:
        print(problem)
    print(f"{'FAILED' if found else 'OK'}: {len(found)} arrow(s) pointing up")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
