# Reads JUnit XML files with junitparser (an independent JUnit consumer, as a CI system would) and prints what it
# understood as JSON: per suite, the counts declared in its attributes and the counts junitparser recomputes from
# its test cases, and each case's result. Used by tests/harness/junit-reader.ts; the XML parser is Python's own.
import json
import sys

from junitparser import JUnitXml, TestSuite


def result_of(case):
    results = []
    for item in case.result:
        results.append({"kind": type(item).__name__.lower(), "message": item.message, "type": item.type, "text": item.text})
    return results


def suite_of(suite):
    declared = {"tests": suite.tests, "failures": suite.failures, "errors": suite.errors, "skipped": suite.skipped}
    declared_time = suite.time
    cases = []
    for case in suite:
        outcome = "passed" if case.is_passed else "skipped" if case.is_skipped else "error" if case.is_error else "failure"
        cases.append({"name": case.name, "classname": case.classname, "time": case.time, "outcome": outcome, "results": result_of(case), "systemOut": case.system_out})
    properties = {prop.name: prop.value for prop in suite.properties()}
    suite.update_statistics()
    recomputed = {"tests": suite.tests, "failures": suite.failures, "errors": suite.errors, "skipped": suite.skipped}
    # update_statistics() also replaces the time with the sum of the cases': report the declared one.
    return {"name": suite.name, "time": declared_time, "timestamp": suite.timestamp, "hostname": suite.hostname, "declared": declared, "recomputed": recomputed, "properties": properties, "cases": cases}


def main():
    out = []
    for path in sys.argv[1:]:
        xml = JUnitXml.fromfile(path)
        suites = [xml] if isinstance(xml, TestSuite) else list(xml)
        root = {"tests": xml.tests, "failures": xml.failures, "errors": xml.errors, "skipped": xml.skipped, "time": xml.time}
        out.append({"path": path, "root": root, "suites": [suite_of(suite) for suite in suites]})
    json.dump(out, sys.stdout)


main()
