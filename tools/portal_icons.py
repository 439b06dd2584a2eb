"""Draws the portal's PNG icons from its SVGs with Debian's Chromium (headless): `python -m tools.portal_icons`.
Run again after changing an SVG; the PNGs are committed, so nothing draws them at start-up."""

import subprocess
import tempfile
from pathlib import Path

ASSETS = Path(__file__).resolve().parent.parent / "services" / "gateway" / "portal" / "assets"
ICONS = (
    ("icon.svg", 192, "icon-192.png"),
    ("icon.svg", 512, "icon-512.png"),
    ("maskable.svg", 512, "icon-maskable-512.png"),
)


def draw(svg, size, png):
    with tempfile.TemporaryDirectory() as folder:
        page = Path(folder) / "icon.html"
        page.write_text(
            f"<style>html,body{{margin:0}}</style>{(ASSETS / svg).read_text()}".replace(
                "<svg ", f'<svg width="{size}" height="{size}" style="display:block" ', 1
            )
        )
        subprocess.run(
            [
                "chromium",
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                "--default-background-color=00000000",
                f"--window-size={size},{size}",
                f"--screenshot={ASSETS / png}",
                page.as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )


if __name__ == "__main__":
    for svg, size, png in ICONS:
        draw(svg, size, png)
        print(png)
