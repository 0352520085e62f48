"""Group the failures of an s3-tests pytest log by cause.

    python3 bench/s3tests/summarize.py /tmp/s3tests-<time>.log

For every failed or errored test it takes the first "E   " line of its traceback, reduces it to
a class (the S3 error code and operation for botocore errors, else the exception text without
numbers), and prints the classes by size with a few test names each.
"""
import collections
import re
import sys


def classify(elines):
    """classify picks the most telling line of a traceback and strips what varies per test."""
    for line in elines:
        m = re.search(r"An error occurred \((\w+)\) when calling the (\w+) operation", line)
        if m:
            return "%s from %s" % (m.group(1), m.group(2))
    asserts = [l for l in elines if re.match(r"^E\s+(AssertionError: )?assert ", l)]
    line = (asserts or elines)[0]
    line = re.sub(r"^E\s+", "", line)
    line = re.sub(r"'[^']{40,}'", "'…'", line)
    line = re.sub(r"\b[0-9a-f]{16,}\b", "<hex>", line)
    line = re.sub(r"\d{4,}", "N", line)
    return line[:140]


def main(path):
    text = open(path, encoding="utf-8", errors="replace").read()
    sections = re.split(r"\n_{3,} (?:ERROR at \w+ of )?(test_\w+(?:\[[^\]]*\])?) _{3,}\n", text)
    causes = {}
    for name, body in zip(sections[1::2], sections[2::2]):
        elines = [l for l in body.splitlines() if l.startswith("E   ")]
        causes.setdefault(name, classify(elines) if elines else "(no E line)")
    groups = collections.defaultdict(list)
    for name, cause in causes.items():
        groups[cause].append(name)
    for cause, names in sorted(groups.items(), key=lambda kv: -len(kv[1])):
        print("%4d  %s" % (len(names), cause))
        print("      e.g. " + ", ".join(names[:4]))
    summary = [l for l in text.splitlines() if re.match(r"^=+ .*(passed|failed|error).* =+$", l)]
    if summary:
        print(summary[-1])


if __name__ == "__main__":
    main(sys.argv[1])
