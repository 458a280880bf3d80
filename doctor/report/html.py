"""One self-contained HTML file for a support ticket: inline CSS, no scripts, nothing fetched from a network.

Rendered with jinja2's sandboxed environment and autoescape on: every finding text, excerpt and value is
escaped. The traffic plot (an SVG from doctor.report.plot) is embedded as a data: image, where a browser
runs no script and loads nothing external.
"""

from __future__ import annotations

import base64
import json
from typing import Any, Sequence

from doctor import __version__
from doctor.findings import Report

_CSS = """
:root{--fg:#1d2329;--muted:#5b6670;--line:#d8dee4;--bg:#f6f8fa}
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);max-width:1100px;margin:2em auto;padding:0 1em}
h1{font-size:1.6em;margin:.2em 0} h2{font-size:1.3em;border-bottom:1px solid var(--line);padding-bottom:.2em;margin-top:1.6em}
h3{font-size:1.1em;margin:.2em 0} .muted{color:var(--muted)} code,pre{font:13px/1.4 ui-monospace,Menlo,Consolas,monospace}
pre{background:var(--bg);border:1px solid var(--line);padding:.6em;overflow-x:auto;white-space:pre-wrap;word-break:break-word}
.status{display:inline-block;padding:.1em .6em;border-radius:1em;color:#fff;font-weight:600}
.status-failing{background:#b42318}.status-warning{background:#b54708}.status-healthy{background:#067647}.status-unknown{background:#6941c6}
.finding{border:1px solid var(--line);border-left:6px solid #888;border-radius:4px;padding:.6em 1em;margin:1em 0}
.sev-critical{border-left-color:#7a0916}.sev-error{border-left-color:#d92d20}.sev-warning{border-left-color:#f79009}.sev-info{border-left-color:#2e90fa}
.badge{font-size:.8em;text-transform:uppercase;font-weight:700;letter-spacing:.04em;margin-right:.4em}
table{border-collapse:collapse;width:100%;margin:.5em 0} th,td{border:1px solid var(--line);padding:.3em .5em;text-align:left;vertical-align:top}
th{background:var(--bg)} section.consequence{margin-left:2em} p.consequence{margin:.2em 0;font-style:italic}
.plot img{max-width:100%;border:1px solid var(--line)}
"""

_TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>mldoctor report: {{ title }}</title><style>{{ css }}</style></head>
<body>
<p class="muted">mldoctor {{ version }}{% if not all_redacted %} &middot; <strong>secrets NOT redacted</strong>{% endif %}</p>
{% for r in reports %}{% set rid = loop.index %}
<article class="report" id="report-{{ rid }}">
<h1>{{ r.target.kind }} <code>{{ r.target.name }}</code> is <span class="status status-{{ r.status }}">{{ r.status }}</span></h1>
{% if r.predicted %}<p><em>Findings are predictions from a local preflight run.</em></p>{% endif %}
{% for note in r.notes %}<p class="muted">{{ note }}</p>{% endfor %}
{% if plots[rid - 1] %}<section class="plot"><h2>Traffic</h2><img alt="requests per second, capacity and 503s" src="{{ plots[rid - 1] }}"></section>{% endif %}
{% if memory_plots[rid - 1] %}<section class="plot"><h2>Memory</h2><img alt="memory working set against the limit" src="{{ memory_plots[rid - 1] }}"></section>{% endif %}
<h2>Findings</h2>
{% if not r.findings %}<p>No finding.</p>{% endif %}
{% for f in r.findings %}{% set sev = f.severity.value %}
<section class="finding sev-{{ sev }}{% if f.consequence_of %} consequence{% endif %}" id="r{{ rid }}-{{ f.rule_id }}" data-rule-id="{{ f.rule_id }}">
<h3><span class="badge">{{ sev }}</span><code>{{ f.rule_id }}</code>: {{ f.title }}</h3>
{% if f.consequence_of %}<p class="consequence">Consequence of <a href="#r{{ rid }}-{{ f.consequence_of }}"><code>{{ f.consequence_of }}</code></a>.</p>{% endif %}
<p><strong>Cause.</strong> {{ f.cause }}</p>
<p><strong>Fix.</strong> {{ f.fix }}</p>
{% if f.ruled_out %}<p><strong>Ruled out.</strong></p><ul class="ruled-out">
{% for r in f.ruled_out %}<li><code>{{ r.rule_id }}</code>: {{ r.why }}</li>{% endfor %}</ul>{% endif %}
{% if f.values %}<table class="values"><tr><th>value</th><th>is</th></tr>
{% for k, v in f.values|dictsort %}<tr><td><code>{{ k }}</code></td><td>{{ show(v) }}</td></tr>{% endfor %}</table>{% endif %}
{% for e in f.evidence %}<p class="muted"><code>{{ e.source }}{% if e.line %}:{{ e.line }}{% endif %}</code></p><pre>{{ e.excerpt }}</pre>{% endfor %}
{% if f.references %}<p>References: {% for ref in f.references %}<code>{{ ref }}</code>{% if not loop.last %}, {% endif %}{% endfor %}</p>{% endif %}
</section>
{% endfor %}
<h2>Checks</h2>
<table class="checks"><tr><th>rule</th><th>result</th><th>reason</th></tr>
{% for c in r.checks %}<tr><td><code>{{ c.rule_id }}</code></td><td>{{ c.result }}</td><td>{{ c.reason }}</td></tr>{% endfor %}</table>
{% if r.collector_errors %}<h2>Not collected</h2><ul>
{% for e in r.collector_errors %}<li><strong>{{ e.collector }}</strong>: {{ e.error }}</li>{% endfor %}</ul>{% endif %}
{% if r.evidence_summary %}<p class="muted">Evidence read: {% for k, v in r.evidence_summary.items() %}{{ v }} {{ k }}{% if not loop.last %}, {% endif %}{% endfor %}.</p>{% endif %}
</article>
{% endfor %}
</body></html>
"""


def _show(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str)


def _plot(report: Report, name: str = "traffic.svg") -> str | None:
    svg = report.attachments.get(name)
    if not svg:
        return None
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def render(report: Report, color: bool = False) -> str:
    """The report as one self-contained HTML file."""
    return render_many([report])


def render_many(reports: Sequence[Report]) -> str:
    """Several reports (a namespace) as one self-contained HTML file."""
    from jinja2.sandbox import ImmutableSandboxedEnvironment
    from markupsafe import Markup

    from doctor.report.escape import for_terminal

    env = ImmutableSandboxedEnvironment(autoescape=True, trim_blocks=True, lstrip_blocks=True,
                                        finalize=lambda v: for_terminal(v) if type(v) is str else v)  # no control
    title = reports[0].target.name if len(reports) == 1 else f"{len(reports)} targets"
    return env.from_string(_TEMPLATE).render(
        # _CSS is this module's constant: <style> is raw text, so it must not be entity-escaped
        reports=list(reports), title=title, css=Markup(_CSS), version=__version__, show=_show,
        plots=[_plot(r) for r in reports], memory_plots=[_plot(r, "memory.svg") for r in reports], all_redacted=all(r.redacted for r in reports))
