"""The widget script and the demo page, shipped inside the package (no build step)."""

from __future__ import annotations

import html
from functools import cache
from importlib import resources


@cache
def widget_script() -> bytes:
    return resources.files(__package__).joinpath("static/webchat.js").read_bytes()


def demo_page(key: str) -> str:
    """The sample page with the widget of the channel whose public key is `key`."""
    template = resources.files(__package__).joinpath("static/demo.html").read_text(encoding="utf-8")
    return template.replace("{{channel_key}}", html.escape(key, quote=True))
