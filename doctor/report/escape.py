"""Escaping evidence text for each output: terminal, XML, Markdown, GitHub workflow commands.

Evidence is data written by whoever controls the service (log lines, event messages, file names). Printed as
it is, an ESC sequence moves the cursor, clears the screen or (OSC 52) writes the clipboard; in XML a control
character makes the document unreadable; in Markdown `![](http://…)` loads a tracking pixel; in a GitHub
workflow log a newline followed by `::` starts a command. Each reporter passes evidence through one of these.
"""

from __future__ import annotations

import re

# C0 controls but TAB and LF, DEL, C1 controls, and the Unicode bidirectional overrides/isolates and line separators
_TERMINAL_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
# What XML 1.0 cannot hold at all (TAB, LF, CR and everything from U+0020 may be written, escaped as needed)
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# Markdown and inline HTML syntax: escaped with a backslash so a log line renders as text
_MARKDOWN_SYNTAX = re.compile(r"([\\`*_{}\[\]()#+!|~>-])")
# A CommonMark code span: a run of backticks, then text, then a run of the same length
_CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)", re.S)


def visible(char: str) -> str:
    """A control character as text a person can read: `\\x1b`, `\\u202e`."""
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def for_terminal(text: str) -> str:
    """`text` with every control character shown escaped (`\\x1b[2J`), so none reaches the terminal."""
    return _TERMINAL_UNSAFE.sub(lambda m: visible(m.group(0)), text)


def for_xml(text: str) -> str:
    """`text` holding only characters XML 1.0 allows; others shown escaped (the XML writer escapes `<&"`)."""
    return _XML_INVALID.sub(lambda m: visible(m.group(0)), for_terminal(text))


def for_markdown_prose(text: str) -> str:
    """A finding's text for Markdown: its `code spans` kept (rendered literally), the rest escaped like
    `for_markdown` but for line breaks; so rule texts keep their formatting and evidence in them renders inert."""
    text = for_terminal(text)
    if "\\`" in text:  # an escaped backtick: spans could be read otherwise than here; none are kept
        return _outside_code(text)
    out, pos = [], 0
    for match in _CODE_SPAN.finditer(text):
        out += [_outside_code(text[pos:match.start()]), match.group(0)]
        pos = match.end()
    return "".join(out + [_outside_code(text[pos:])])


def _outside_code(text: str) -> str:
    text = text.replace("\\", "\\\\").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return re.sub(r"([`\[\]!])", r"\\\1", text)


def for_markdown(text: str) -> str:
    """`text` rendered as itself in Markdown: no HTML, image, link or emphasis; no line break; no control."""
    text = for_terminal(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MARKDOWN_SYNTAX.sub(r"\\\1", text).replace("\n", " ").replace("\r", " ")


def in_code(text: str) -> str:
    """`text` inside a Markdown inline code span: no backtick to close it, no line break, no control."""
    return for_terminal(text).replace("`", "'").replace("\n", " ").replace("\r", " ")


def in_fence(text: str) -> str:
    """`text` inside a fenced code block: cannot close the fence, no control."""
    return for_terminal(text).replace("```", "`\u200b``").replace("~~~", "~\u200b~~")


def workflow_data(text: str) -> str:
    """A GitHub workflow-command message: `%`, CR and LF escaped as the runner expects."""
    return for_terminal(text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A"))


def workflow_property(text: str) -> str:
    """A GitHub workflow-command property value: the message escapes plus `:` and `,`."""
    return workflow_data(text).replace(":", "%3A").replace(",", "%2C")
