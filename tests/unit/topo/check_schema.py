#!/usr/bin/env python3
"""Checks docs/topology.schema.json against the JSON Schema meta-schema and every example (and
every sample under tests/unit/topo/samples) against the schema, so the schema and the format
cannot drift apart unnoticed.

Usage: check_schema.py SOURCE_DIR. Exits 77 (skipped) when python3-jsonschema is missing."""
import json
import pathlib
import sys

try:
    from jsonschema import Draft202012Validator
except ImportError:
    print("python3 jsonschema is not installed; skipping")
    sys.exit(77)

source = pathlib.Path(sys.argv[1])
schema = json.loads((source / "docs" / "topology.schema.json").read_text())
Draft202012Validator.check_schema(schema)
validator = Draft202012Validator(schema)
failed = False
topologies = sorted((source / "examples").glob("*.json"))
topologies += sorted((source / "tests" / "unit" / "topo" / "samples").glob("*.json"))
for example in topologies:
    for error in validator.iter_errors(json.loads(example.read_text())):
        print(f"{example.name}: {error.json_path}: {error.message}")
        failed = True
sys.exit(1 if failed else 0)
