"""Rendering fragments and pages with Jinja2.

A fragment is rendered with ``oob=True`` for the socket (it then carries
``hx-swap-oob``) and with ``oob=False`` inside a full page; otherwise the bytes are the
same, so a page load and a live update can never disagree.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from screens import messages
from screens.phrases import phrase_breaks
from screens.script import live_script
from screens.view import View

TEMPLATES = Path(__file__).resolve().parent / "templates"  # package data: found where the package is

env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    auto_reload=False,
)
env.globals["msg"] = messages
env.globals["live_script"] = live_script  # the chair's script, built from the view it is given
env.filters["phrases"] = phrase_breaks  # titles break between phrases (screens/phrases.py)


def fragment(frag_id: str, view: View, *, oob: bool, **extra: Any) -> str:
    template = env.get_template(f"fragments/{frag_id}.html")
    return template.render(v=view, oob=oob, **extra).strip()


def page(name: str, **context: Any) -> str:
    return env.get_template(f"pages/{name}.html").render(**context)
