"""Just enough HTML → Markdown for pages written as HTML (the fake keeps both forms).

The reverse of `workspace.markdown_to_html` and of the export's table HTML: headings,
paragraphs, line breaks and tables; any other tag keeps only its text.
"""

from __future__ import annotations

from html.parser import HTMLParser

BLOCKS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "pre", "div"}


class _Markdown(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[str] = []
        self.text: list[str] = []
        self.rows: list[list[str]] = []
        self.prefix = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.text.append("\n")
        elif tag in BLOCKS:
            self.flush()
            self.prefix = "#" * int(tag[1]) + " " if tag[0] == "h" and tag[1:].isdigit() else ""
        elif tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self.text = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self.rows:
            self.rows[-1].append("".join(self.text).strip().replace("|", "\\|"))
            self.text = []
        elif tag == "table":
            self._table()
        elif tag in BLOCKS:
            self.flush()

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def flush(self) -> None:
        text = "".join(self.text).strip()
        if text:
            self.blocks.append(self.prefix + text)
        self.text, self.prefix = [], ""

    def _table(self) -> None:
        rows, self.rows = self.rows, []
        if not rows:
            return
        lines = ["| " + " | ".join(rows[0]) + " |", "|" + " --- |" * len(rows[0])]
        lines += ["| " + " | ".join(row) + " |" for row in rows[1:]]
        self.blocks.append("\n".join(lines))
        self.text = []


def html_to_markdown(html: str) -> str:
    parser = _Markdown()
    parser.feed(html)
    parser.close()
    parser.flush()  # text after the last block
    return "\n\n".join(parser.blocks) + ("\n" if parser.blocks else "")
