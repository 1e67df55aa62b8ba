#!/usr/bin/env python3
"""Writes a manual page from one of netlab's Markdown documents (docs/topology.md becomes
netlab-topology(5)), so the page says what the document says.

It knows the Markdown the documents use: headings, paragraphs, fenced code, bullet and numbered
lists, tables (each row becomes a tagged paragraph), `code`, **bold**, *emphasis* and links
(their text; the address when it leaves the documents).

Usage: markdown_to_man.py INPUT.md OUTPUT NAME SECTION SUMMARY VERSION"""
import re
import sys


def escape(text):
    return text.replace("\\", "\\e").replace("-", "\\-")


def inline(text):
    """Markdown's inline markup as roff fonts; the text escaped first."""
    spans = []

    def keep(roff):
        spans.append(roff)
        return f"\x00{len(spans) - 1}\x00"

    text = re.sub(r"`([^`]+)`", lambda m: keep(r"\fB" + escape(m.group(1)) + r"\fR"), text)
    text = re.sub(r"!?\[([^\]]+)\]\(([^)]+)\)",
                  lambda m: m.group(1) + (f" <{m.group(2)}>" if m.group(2).startswith("http") else ""),
                  text)
    text = escape(text)
    text = re.sub(r"\*\*([^*]+)\*\*", r"\\fB\1\\fR", text)
    text = re.sub(r"(?<![\w*])\*([^*\s][^*]*)\*(?!\w)", r"\\fI\1\\fR", text)
    text = re.sub("\x00(\\d+)\x00", lambda m: spans[int(m.group(1))], text)
    return text


def line(text):
    """A line of running text: never taken for a request."""
    return ("\\&" + text) if text.startswith((".", "'")) else text


def cells(row):
    row = row.strip().strip("|")
    return [cell.strip() for cell in re.split(r"(?<!\\)\|", row)]


def convert(markdown, name, section, summary, version):
    out = [f'.\\" Generated from {name}\'s Markdown by dist/markdown_to_man.py: edit that, not this.',
           f'.TH {name.upper()} {section} "" "netlab {version}" "netlab manual"',
           ".SH NAME", f"{escape(name)} \\- {escape(summary)}"]
    lines = markdown.splitlines()
    i = 0
    while i < len(lines):
        text = lines[i]
        if text.startswith("```"):
            out += [".PP", ".RS 4", ".nf"]
            i += 1
            while i < len(lines) and not lines[i].startswith("```"):
                out.append(line(escape(lines[i])))
                i += 1
            out += [".fi", ".RE"]
        elif text.startswith("# "):
            out.append(".SH DESCRIPTION")
        elif text.startswith("## "):
            out.append(f'.SH "{inline(text[3:]).upper()}"')
        elif text.startswith("### "):
            out.append(f'.SS "{inline(text[4:])}"')
        elif text.startswith("|"):
            header = cells(text)
            i += 2  # the header and its |---| line
            while i < len(lines) and lines[i].startswith("|"):
                row = cells(lines[i])
                out += [".TP", inline(row[0])]
                rest = [f"{header[k]}: {inline(cell)}" if k < len(row) - 1 else inline(cell)
                        for k, cell in enumerate(row[1:], 1) if cell]
                out.append(line("; ".join(rest)))
                i += 1
            continue
        elif re.match(r"^\s*([-*]|\d+\.) ", text):
            indent = len(text) - len(text.lstrip())
            item = re.sub(r"^\s*([-*]|\d+\.) ", "", text)
            out += [f".IP \\(bu {2 + indent}" if re.match(r"^\s*[-*] ", text) else ".IP",
                    line(inline(item))]
        elif not text.strip():
            out.append(".PP")
        else:
            out.append(line(inline(text.strip())))
        i += 1
    # No empty paragraphs: a .PP right after a heading or another .PP says nothing.
    tidy = []
    for request in out:
        if request == ".PP" and tidy and (tidy[-1] == ".PP" or tidy[-1].startswith((".SH", ".SS"))):
            continue
        tidy.append(request)
    return "\n".join(tidy) + "\n"


def main():
    source, target, name, section, summary, version = sys.argv[1:7]
    with open(source, encoding="utf-8") as f:
        page = convert(f.read(), name, section, summary, version)
    with open(target, "w", encoding="utf-8") as f:
        f.write(page)


if __name__ == "__main__":
    main()
