#!/usr/bin/env python3
"""Writes a generated topology to stdout: `generate.py chain N` (N routers in a row, one
point-to-point link each) or `generate.py star N` (N hosts on one LAN; netlab makes its switch).

The start of netlab's benchmark (issue 6): sizes for timing `netlab up` and `netlab down`.
"""
import json
import sys


def chain(count):
    nodes = {f"r{i}": {"kind": "router"} for i in range(count)}
    links = [[f"r{i}", f"r{i + 1}"] for i in range(count - 1)]
    return {"name": f"chain{count}", "nodes": nodes, "links": links}


def star(count):
    # A bridge takes at most 1024 ports; netlab's validation refuses more.
    nodes = {f"h{i}": {} for i in range(count)}
    return {"name": f"star{count}", "nodes": nodes, "links": [list(nodes)]}


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("chain", "star"):
        sys.exit("usage: generate.py chain|star N")
    json.dump({"chain": chain, "star": star}[sys.argv[1]](int(sys.argv[2])), sys.stdout)
