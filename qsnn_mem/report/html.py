"""report.html: report.md as one self-contained HTML file, to share or open anywhere.

The figures are embedded as base64 PNG (``data:`` URIs) with their SVG as an embedded download
link, the tables are HTML tables, and the style is inline: no other file, no network. Reads the
small markdown subset :mod:`.markdown` writes (headings, paragraphs, images, italic captions,
tables, bold, code, links)."""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path

from ..errors import QsnnError

MIME = {".png": "image/png", ".svg": "image/svg+xml"}
STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 1100px;
       margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.45; }
h1 { font-size: 1.6em; } h2 { font-size: 1.25em; margin-top: 1.8em; }
figure { margin: 1em 0; } figure img { max-width: 100%; height: auto; }
.caption { color: #444; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; }
th { background: #f2f2f2; }
code { background: #f4f4f4; padding: 0 0.2em; }
"""
IMAGE = re.compile(r"^!\[(?P<alt>[^\]]*)\]\((?P<src>[^)]+)\)$")
LINK = re.compile(r"\[(?P<text>[^\]]+)\]\((?P<href>[^)]+)\)")


def data_uri(path: Path) -> str:
    """``path``'s bytes as a ``data:`` URI (PNG or SVG)."""
    mime = MIME.get(path.suffix.lower())
    if mime is None:
        raise QsnnError(f"{path}: cannot embed a {path.suffix or 'suffix-less'} file")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise QsnnError(f"{path}: cannot read the figure to embed it ({exc})") from None
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def _inline(text: str, folder: Path) -> str:
    """Escaped text with code, bold, italic and links; a link to a figure file becomes an
    embedded download, any other local link plain text."""
    parts = re.split(r"(`[^`]*`)", text)
    out = []
    for part in parts:
        if part.startswith("`") and part.endswith("`") and len(part) > 1:
            out.append(f"<code>{html.escape(part[1:-1])}</code>")
            continue
        part = LINK.sub(lambda m: _link(m["text"], m["href"], folder), html.escape(part, False))
        part = re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", part)
        out.append(re.sub(r"\*([^*]+)\*", r"<em>\1</em>", part))
    return "".join(out)


def _link(text: str, href: str, folder: Path) -> str:
    path = folder / html.unescape(href)
    if path.suffix.lower() in MIME and path.is_file():
        return f'<a download="{href}" href="{data_uri(path)}">{text}</a>'
    return text


def _cells(line: str, tag: str, folder: Path) -> str:
    cells = [c.strip() for c in line.strip().strip("|").split("|")]
    return "<tr>" + "".join(f"<{tag}>{_inline(c, folder)}</{tag}>" for c in cells) + "</tr>"


def _table(lines: list[str], folder: Path) -> str:
    rows = [_cells(lines[0], "th", folder)]
    rows += [_cells(line, "td", folder) for line in lines[2:]]
    return "<table>\n" + "\n".join(rows) + "\n</table>"


def _figure(alt: str, src: str, folder: Path) -> str:
    return f'<figure><img alt="{html.escape(alt)}" src="{data_uri(folder / src)}"></figure>'


def _blocks(markdown: str) -> list[list[str]]:
    """Blank-line separated blocks of lines."""
    blocks: list[list[str]] = [[]]
    for line in markdown.splitlines():
        if line.strip():
            blocks[-1].append(line)
        elif blocks[-1]:
            blocks.append([])
    return [b for b in blocks if b]


def to_html(markdown: str, folder: Path) -> str:
    """The HTML page of report.md's text, its figures (files in ``folder``) embedded."""
    body = []
    title = "qsnn-mem report"
    for block in _blocks(markdown):
        first = block[0]
        heading = re.match(r"^(#{1,6}) (.*)$", first)
        image = IMAGE.match(first)
        if heading and len(block) == 1:
            level = len(heading[1])
            if level == 1:
                title = heading[2]
            body.append(f"<h{level}>{_inline(heading[2], folder)}</h{level}>")
        elif image and len(block) == 1:
            body.append(_figure(image["alt"], image["src"], folder))
        elif first.startswith("|") and len(block) >= 2:
            body.append(_table(block, folder))
        else:
            cls = ' class="caption"' if first.startswith("*") else ""
            body.append(f"<p{cls}>{_inline(' '.join(block), folder)}</p>")
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )
