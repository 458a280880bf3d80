"""The traffic pictures: a well-formed self-contained SVG and a unicode sparkline."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from doctor.bundle import read_bundle_dir
from doctor.report.plot import svg_chart, terminal_chart
from doctor.traffic import stats_for

BUNDLE = Path(__file__).resolve().parents[2] / "fixtures/bundles/traffic-overload-503"


def test_svg_and_sparkline_show_the_burst() -> None:
    evidence = read_bundle_dir(BUNDLE, "b")
    stats = stats_for(evidence)
    assert stats is not None
    svg = svg_chart(stats)
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg") and len(root.findall("{http://www.w3.org/2000/svg}path")) == 3
    chart = terminal_chart(stats)
    assert chart.startswith("req/s") and "█" in chart and "peak 20" in chart
