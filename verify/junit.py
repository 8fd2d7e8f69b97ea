"""A report's checks as JUnit XML, the test format CI systems (GitLab, Jenkins, GitHub reporters) display."""

from __future__ import annotations

from xml.etree import ElementTree

from edgebuild.verify.report import Report


def junit_xml(typed: Report) -> bytes:
    """One testsuite for the model and profile, one testcase per check, a <failure> per failed check."""
    report = typed.model_dump(mode="json")
    checks = report["checks"]
    counts = {"tests": str(len(checks)), "failures": str(sum(check["ran"] and not check["passed"] for check in checks)),
              "errors": "0", "skipped": str(sum(not check["ran"] for check in checks))}
    suites = ElementTree.Element("testsuites", name="edgebuild verify", **counts)
    suite = ElementTree.SubElement(suites, "testsuite", name=report["title"], **counts)
    for check in checks:
        case = ElementTree.SubElement(suite, "testcase", name=check["name"],
                                      classname=f"edgebuild.verify.{report['profile']}")
        if not check["ran"]:
            ElementTree.SubElement(case, "skipped", message=f"not run: {check['reason']}")
        elif not check["passed"]:
            ElementTree.SubElement(case, "failure", message=check["reason"], type="check failed").text = check["reason"]
        ElementTree.SubElement(case, "system-out").text = f"value: {check['value']}\nlimit: {check['limit']}\n"
    ElementTree.indent(suites)
    return ElementTree.tostring(suites, encoding="utf-8", xml_declaration=True) + b"\n"
