"""JUnit XML for CI systems: one test case per check; a finding at error or above is a failure."""

from __future__ import annotations

from xml.etree import ElementTree as ET

from doctor.evidence import Severity
from doctor.findings import Report
from doctor.report.escape import for_xml


def render(report: Report, color: bool = False) -> str:
    """The report as a JUnit XML test suite."""
    by_id = {f.rule_id: f for f in report.findings}
    suite = ET.Element("testsuite", name=f"mldoctor {report.target.kind}:{report.target.name}",
                       tests=str(len(report.checks)))
    failures = skipped = 0
    for check in report.checks:
        case = ET.SubElement(suite, "testcase", classname=f"mldoctor.{report.target.kind}", name=check.rule_id)
        finding = by_id.get(check.rule_id)
        if finding and finding.severity.rank >= Severity.ERROR.rank:
            failures += 1
            node = ET.SubElement(case, "failure", type=finding.severity.value, message=finding.title)
            node.text = "\n".join([f"Cause: {finding.cause}", f"Fix: {finding.fix}"]
                                  + [f"{e.source}: {e.excerpt}" for e in finding.evidence])
        elif finding:
            ET.SubElement(case, "system-out").text = f"{finding.severity.value}: {finding.title}\nFix: {finding.fix}"
        elif check.result == "skipped":
            skipped += 1
            ET.SubElement(case, "skipped", message=check.reason)
    for err in report.collector_errors:
        case = ET.SubElement(suite, "testcase", classname="mldoctor.collector", name=err.collector)
        ET.SubElement(case, "error", message=err.error)
    suite.set("failures", str(failures))
    suite.set("skipped", str(skipped))
    suite.set("errors", str(len(report.collector_errors)))
    _only_xml_characters(suite)
    ET.indent(suite)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suite, encoding="unicode") + "\n"


def _only_xml_characters(root: ET.Element) -> None:
    """Every text and attribute made of characters XML 1.0 allows (evidence can hold NULs and ESC)."""
    for node in root.iter():
        if node.text:
            node.text = for_xml(node.text)
        for key, value in node.attrib.items():
            node.set(key, for_xml(value))
