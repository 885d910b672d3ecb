"""Tiny SVG building blocks shared by the diagrams and the charts: escaped text, always."""

from __future__ import annotations

from html import escape

from markupsafe import Markup

__all__ = ["arrow_defs", "svg_root", "text"]


def text(x: float, y: float, body: str, cls: str = "", anchor: str = "middle") -> str:
    klass = f' class="{cls}"' if cls else ""
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}"{klass}>{escape(body)}</text>'


def arrow_defs(*names: str) -> str:
    markers = "".join(
        f'<marker id="arrow-{n}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        f'markerHeight="7" orient="auto-start-reverse" class="arrowhead {n}">'
        '<path d="M0,0 L10,5 L0,10 z"/></marker>'
        for n in names
    )
    return f"<defs>{markers}</defs>"


def svg_root(
    width: float, height: float, title: str, desc: str, body: list[str], cls: str
) -> Markup:
    """An accessible, scalable `<svg>`: named by its title, described by its desc."""
    ident = cls.replace(" ", "-")
    head = (
        f'<svg class="{cls}" viewBox="0 0 {width:.0f} {height:.0f}" role="img" '
        f'aria-labelledby="{ident}-title {ident}-desc" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{ident}-title">{escape(title)}</title>'
        f'<desc id="{ident}-desc">{escape(desc)}</desc>'
    )
    return Markup(head + "".join(body) + "</svg>")  # noqa: S704 - every text above is escaped
