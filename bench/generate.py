#!/usr/bin/env python3
"""Writes one of the benchmark's labs to stdout as a netlab topology:
`generate.py star N` (N hosts on one LAN: one switch up to 1000, leaf switches under a core
beyond), `generate.py chain N` (N routers in a row with static routes end to end) or
`generate.py fat-tree K` (a k-ary fat-tree of routers with k^3/4 hosts). Every interface name,
address and route is written out (see labs.py).
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import labs  # noqa: E402

if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in labs.SHAPES:
        sys.exit(f"usage: generate.py {'|'.join(labs.SHAPES)} N")
    json.dump(labs.to_netlab(labs.SHAPES[sys.argv[1]](int(sys.argv[2]))), sys.stdout)
