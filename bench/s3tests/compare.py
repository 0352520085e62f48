"""Compare an s3-tests run with the failures Kiri expects.

    python3 bench/s3tests/compare.py results.xml bench/s3tests/expected-failures.txt

results.xml is pytest's --junitxml report. The expectations file names one test a line,
followed by '#' and the reason it fails (Ceph-only behaviour, or a difference from AWS);
blank lines and lines starting with '#' are comments.

It prints the counts, every failure that is not expected (a regression) and every expected
failure that passed (the list can be trimmed), and exits 1 if there was any unexpected failure,
2 if the expectations file is malformed, else 0.
"""
import sys
import xml.etree.ElementTree as ET


def load_expected(path):
    expected = {}
    bad = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            name, _, reason = line.partition("#")
            name, reason = name.strip(), reason.strip()
            if " " in name or not reason:
                bad.append("%s:%d: want 'test_name  # reason', got %r" % (path, n, line))
                continue
            if name in expected:
                bad.append("%s:%d: %s is listed twice" % (path, n, name))
            expected[name] = reason
    return expected, bad


def load_results(path):
    """load_results maps each test case to passed, failed or skipped."""
    results = {}
    for case in ET.parse(path).getroot().iter("testcase"):
        name = case.get("name")
        if case.find("failure") is not None or case.find("error") is not None:
            outcome = "failed"
        elif case.find("skipped") is not None:
            outcome = "skipped"
        else:
            outcome = "passed"
        # A test whose teardown errors is listed twice: a failure wins.
        if results.get(name) != "failed":
            results[name] = outcome
    return results


def main(results_path, expected_path):
    expected, bad = load_expected(expected_path)
    if bad:
        print("\n".join(bad))
        return 2
    results = load_results(results_path)
    counts = {o: sum(1 for v in results.values() if v == o) for o in ("passed", "failed", "skipped")}
    print("s3-tests: %d passed, %d failed (%d expected), %d skipped, of %d" % (
        counts["passed"], counts["failed"], sum(1 for n, o in results.items() if o == "failed" and n in expected),
        counts["skipped"], len(results)))
    unexpected = sorted(n for n, o in results.items() if o == "failed" and n not in expected)
    fixed = sorted(n for n, o in results.items() if o == "passed" and n in expected)
    missing = sorted(n for n in expected if n not in results)
    if fixed:
        print("expected to fail but passed (trim them from %s):" % expected_path)
        for n in fixed:
            print("  " + n)
    if missing:
        print("listed as expected failures but not run (renamed or deselected?):")
        for n in missing:
            print("  " + n)
    if unexpected:
        print("UNEXPECTED FAILURES (regressions, or failures to explain in %s):" % expected_path)
        for n in unexpected:
            print("  " + n)
        return 1
    print("no unexpected failures")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))
