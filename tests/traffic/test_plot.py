"""The traffic pictures: a well-formed self-contained SVG and a unicode sparkline."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from doctor.bundle import read_bundle_dir
from doctor.traffic.plot import terminal_chart, traffic_svg

BUNDLE = Path(__file__).resolve().parents[2] / "fixtures/bundles/traffic-overload-503"


def test_svg_and_sparkline_show_the_burst() -> None:
    evidence = read_bundle_dir(BUNDLE, "b")
    svg = traffic_svg(evidence)
    assert svg is not None
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg") and len(root.findall("{http://www.w3.org/2000/svg}path")) == 3
    from doctor.traffic import stats_for

    chart = terminal_chart(stats_for(evidence) or {})
    assert chart.startswith("req/s") and "█" in chart and "peak 20" in chart
