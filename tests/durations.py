"""Time per test module from a JUnit report (`pytest --junitxml=report.xml`), longest first: the
figures behind `LONGEST_FIRST` in tests/conftest.py. Usage: python tests/durations.py report.xml"""

from __future__ import annotations

import collections
import sys
import xml.etree.ElementTree as ET


def module_times(path: str) -> list[tuple[str, float]]:
    total: collections.Counter = collections.Counter()
    for case in ET.parse(path).getroot().iter("testcase"):
        total[case.get("classname", "").split(".")[-1]] += float(case.get("time", 0.0))
    return total.most_common()


if __name__ == "__main__":
    for name, seconds in module_times(sys.argv[1]):
        print(f"{seconds:8.1f}  {name}")
