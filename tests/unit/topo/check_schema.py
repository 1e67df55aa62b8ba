#!/usr/bin/env python3
"""Checks that docs/topology.schema.json agrees with netlab (issue 13):

- the schema is valid against the JSON Schema meta-schema;
- every example (examples/*.json, examples/*/topo.json) and every sample under
  tests/unit/topo/samples validates;
- every file of the hostile corpus (tests/fuzz/corpus) that `netlab validate` rejects (exit 2) is
  rejected by the schema too, unless it is listed in SCHEMA_CANNOT_SAY with the reason; a file
  netlab accepts must validate. A file the JSON parser of a schema validator cannot read (invalid
  UTF-8, syntax, nesting too deep for it) counts as rejected, as an editor would show it.

Usage: check_schema.py SOURCE_DIR NETLAB. Exits 77 (skipped) when python3-jsonschema is missing."""
import json
import pathlib
import subprocess
import sys

try:
    from jsonschema import Draft202012Validator
except ImportError:
    print("python3 jsonschema is not installed; skipping")
    sys.exit(77)

# Corpus files netlab rejects only for reasons a JSON Schema cannot express, so the schema
# accepts them. Each entry is checked: when the schema starts rejecting a file listed here, the
# test fails so the entry goes. (Other corpus files mix such problems with ones the schema sees,
# duplicate_keys.json, lone_surrogate.json and unknown_nodes.json among them: they need no entry.)
SCHEMA_CANNOT_SAY = {
    # The same key twice in an object: JSON parsers keep one of them, so the schema never sees
    # the other.
    "duplicate_node.json": "a duplicate key",
    # "\ud83d" without its pair is a string to a validator's parser; netlab refuses it as text
    # that is not UTF-16. The schema sees values, not their encoding.
    "unpaired_surrogates.json": "unpaired UTF-16 surrogate escapes",
    # Names that must match a node or an interface declared elsewhere in the document, and a
    # switch (by its kind, declared in `nodes`) given addresses in a link.
    "cross_references.json": "unknown nodes and interfaces, addresses on a switch's port",
    # Addresses against each other: overlapping subnets, an address outside its segment's
    # subnet or used twice, a MAC used twice, reorder without a delay on the merged egress.
    "address_conflicts.json": "overlaps, repeats and values merged across layers",
}

source = pathlib.Path(sys.argv[1])
netlab = sys.argv[2]
schema = json.loads((source / "docs" / "topology.schema.json").read_text())
Draft202012Validator.check_schema(schema)
validator = Draft202012Validator(schema)
failed = False


def fail(message):
    global failed
    print(message)
    failed = True


def schema_errors(path):
    """The schema's objections to a file, or the reason it cannot be read as JSON."""
    try:
        document = json.loads(path.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        return [f"not JSON a validator can read: {type(error).__name__}"]
    try:
        return [f"{error.json_path}: {error.message}" for error in validator.iter_errors(document)]
    except RecursionError:
        return ["nested too deeply for the validator"]


def netlab_rejects(path):
    result = subprocess.run([netlab, "validate", str(path)], capture_output=True, text=True,
                            errors="replace", timeout=60)
    if result.returncode not in (0, 2):
        fail(f"{path.name}: netlab validate exited {result.returncode}: {result.stderr}")
    return result.returncode == 2


examples = sorted((source / "examples").glob("*.json"))
examples += sorted((source / "examples").glob("*/topo.json"))
examples += sorted((source / "tests" / "unit" / "topo" / "samples").glob("*.json"))
if len(examples) < 8:
    fail(f"only {len(examples)} examples found")
for example in examples:
    for error in schema_errors(example):
        fail(f"{example.relative_to(source)}: {error}")

corpus = sorted((source / "tests" / "fuzz" / "corpus").glob("*.json"))
if len(corpus) < 20:
    fail(f"only {len(corpus)} corpus files found")
for path in corpus:
    errors = schema_errors(path)
    if not netlab_rejects(path):
        for error in errors:
            fail(f"{path.name}: netlab accepts it, the schema does not: {error}")
    elif path.name in SCHEMA_CANNOT_SAY:
        if errors:
            fail(f"{path.name}: listed as beyond the schema ({SCHEMA_CANNOT_SAY[path.name]}), "
                 f"but the schema rejects it now: remove it from SCHEMA_CANNOT_SAY")
    elif not errors:
        fail(f"{path.name}: netlab rejects it, the schema accepts it")
for name in SCHEMA_CANNOT_SAY:
    if not (source / "tests" / "fuzz" / "corpus" / name).exists():
        fail(f"{name}: listed in SCHEMA_CANNOT_SAY but not in the corpus")
sys.exit(1 if failed else 0)
