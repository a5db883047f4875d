"""The HTML shell every view file shares: the Content-Security-Policy, the one stylesheet,
links between files of the run, and escaping.

Every view opens from `file://` with no server. Chromium treats `'self'` on a file:// page
as "any file:// URL" and nothing else, so `'self'` lets a view load the viewer's own CSS and
JS and the run's local images while every remote load (and every inline script or style a
backed-up page might carry) is refused. Page views, which hold backed-up content, allow no
script at all.
"""

from __future__ import annotations

import html
import posixpath
import typing as t
from urllib.parse import quote

#: Folder of the run that holds the views and their static files.
FOLDER = "viewer"
STYLE = f"{FOLDER}/viewer.css"
SCRIPT = f"{FOLDER}/viewer.js"
INDEX = "index.html"

_BASE = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'; "
    "form-action 'none'"
)
#: Views of the run (index, doc, table): the viewer's own script may run.
CSP_SCRIPT = f"{_BASE}; script-src 'self'"
#: Views holding a backed-up page: nothing runs.
CSP_NO_SCRIPT = f"{_BASE}; script-src 'none'"


def esc(value: object) -> str:
    """Text for HTML (None is empty); a NUL, which HTML cannot hold, shows as U+FFFD."""
    if value is None:
        return ""
    return html.escape(str(value), quote=True).replace("\x00", "\ufffd")


def label(name: object, obj_id: object) -> str:
    """A name to show: Coda's, or "(untitled ID)" when it is empty or only blanks."""
    text = "" if name is None else str(name)
    return text if text.strip() else f"(untitled {obj_id})"


def url(from_rel: str, to_rel: str) -> str:
    """The relative URL from the view file `from_rel` to the file `to_rel` (both relative
    to the run, with `/`)."""
    return quote(relative(from_rel, to_rel), safe="/")


def relative(from_rel: str, to_rel: str) -> str:
    """`posixpath.relpath(to_rel, dirname(from_rel))` for run paths. Those are normal (no
    empty, `.` or `..` part), so it is up past the folders they do not share and down:
    string work only. relpath asks the OS for the working directory twice a call: about a
    quarter of the views' time at 5,000 pages (a view holds about seven links)."""
    here, there = from_rel.split("/")[:-1], to_rel.split("/")
    if _ODD_PARTS.intersection(here) or _ODD_PARTS.intersection(there):
        return posixpath.relpath(to_rel, posixpath.dirname(from_rel) or ".")
    common = 0
    for mine, theirs in zip(here, there, strict=False):
        if mine != theirs:
            break
        common += 1
    return "/".join([".."] * (len(here) - common) + there[common:]) or "."


_ODD_PARTS = frozenset(("", ".", ".."))


def href(from_rel: str, to_rel: str) -> str:
    """`url`, escaped for an attribute."""
    return esc(url(from_rel, to_rel))


def link(from_rel: str, to_rel: str, text: object) -> str:
    return f'<a href="{href(from_rel, to_rel)}">{esc(text)}</a>'


def badge(text: str, kind: str = "") -> str:
    return f'<span class="badge {esc(kind)}">{esc(text)}</span>'


def document(
    rel: str,
    title: str,
    body: str,
    *,
    script: bool = False,
    crumbs: t.Sequence[tuple[str, str]] = (),
    scripts: t.Sequence[str] = (),
) -> str:
    """A whole view file at `rel`: `crumbs` are (run path, text) links above the body;
    `script` (or data `scripts`, run after it) loads viewer.js."""
    nav = [link(rel, INDEX, "Backup"), *(link(rel, to, text) for to, text in crumbs)]
    script = script or bool(scripts)
    tag = "".join(
        f'<script src="{href(rel, src)}" defer></script>\n'
        for src in ([SCRIPT, *scripts] if script else [])
    )
    return (
        "<!doctype html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta http-equiv="Content-Security-Policy" '
        f'content="{esc(CSP_SCRIPT if script else CSP_NO_SCRIPT)}">\n'
        '<meta name="referrer" content="no-referrer">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(title)}</title>\n"
        f'<link rel="stylesheet" href="{href(rel, STYLE)}">\n{tag}'
        "</head>\n<body>\n"
        f'<nav class="crumbs">{" / ".join(nav)}</nav>\n'
        f"<main>\n{body}\n</main>\n</body>\n</html>\n"
    )


def table(headers: t.Sequence[str], rows: t.Iterable[t.Sequence[str]], cls: str = "") -> str:
    """A plain HTML table; cells are HTML already."""
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>\n" for row in rows)
    return (
        f'<table class="{esc(cls)}"><thead><tr>{head}</tr></thead>\n<tbody>\n{body}</tbody></table>'
    )
