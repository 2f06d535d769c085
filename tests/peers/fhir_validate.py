"""Validates FHIR resources served by exam-server against the FHIR R4
(4.0.1) models of the `fhir.resources` package (a peer no one here wrote).

Usage: python fhir_validate.py FILE.json
FILE holds a JSON list of {"label": ..., "resource": {...}}. Every resource
(and every resource inside a Bundle's entries) is parsed by the model of
its resourceType; unknown elements, wrong types and missing required
elements fail. Exit 0 when all pass, 1 with one line per failure, 2 when
the package is missing or is not R4 4.0.1.
"""
import json
import sys

try:
    import fhir.resources
    from fhir.resources import construct_fhir_element
except ImportError as e:  # the test fails, with the reason
    print(f"fhir.resources is not installed ({e}): install tests/peers/requirements.txt "
          "into the peers' venv (scripts/test does)", file=sys.stderr)
    sys.exit(2)

if fhir.resources.__fhir_version__ != "4.0.1":
    print(f"fhir.resources models FHIR {fhir.resources.__fhir_version__}, not R4 4.0.1: "
          "pin the version in tests/peers/requirements.txt", file=sys.stderr)
    sys.exit(2)


def check(label, res, failures, counts):
    rt = res.get("resourceType")
    try:
        construct_fhir_element(rt, res)
    except Exception as e:  # pydantic's ValidationError, or an unknown type
        failures.append(f"{label} ({rt}): {e}")
        return
    counts[rt] = counts.get(rt, 0) + 1
    if rt == "Bundle":
        for i, entry in enumerate(res.get("entry", [])):
            check(f"{label} entry {i}", entry["resource"], failures, counts)


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        items = json.load(f)
    failures, counts = [], {}
    for item in items:
        check(item["label"], item["resource"], failures, counts)
    for line in failures:
        print(line)
    print("validated:", json.dumps(counts, sort_keys=True))
    sys.exit(1 if failures else 0)


main()
