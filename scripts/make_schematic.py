"""Draw the schematic of the whole method and embed it in notebook 01 as a markdown attachment.

    python scripts/make_schematic.py            # writes notebooks/01_...ipynb in place
    python scripts/make_schematic.py --png x.png  # also save the picture

Attachments travel inside the .ipynb, so the picture shows in Colab, on GitHub and in
JupyterLab before anything runs (relative image links do not render in Colab).
"""

from __future__ import annotations

import argparse
import base64
import io
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import nbformat  # noqa: E402
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "01_images_and_preprocessing.ipynb"
NAME = "method.png"
MARKER = "## The whole method at a glance"
TEXT = f"""{MARKER}

![The method: photo and painting go through VGG19 once to give the targets; the image being
painted goes through VGG19 at every step; three losses are weighted and summed; the gradient
flows back to the pixels](attachment:{NAME})

The photo and the painting go through VGG19 **once**, to give the targets: the photo's
features at a deep layer (P) and the painting's Gram matrices at five layers (A). The image
being painted, x, goes through the same network **at every step**. Three losses compare it
with the targets and with itself (total variation), their weighted sum is the objective, and
its gradient flows back through VGG19 **to the pixels of x**, which an optimizer (L-BFGS or
Adam) changes. The network's weights never change. Notebooks 02 to 05 build each box."""

BOXES = {  # name: (x, y, width, height, text, colour)
    "photo": (0.2, 5.0, 2.0, 0.9, "photo p", "#d9ead3"),
    "painting": (0.2, 3.4, 2.0, 0.9, "painting a", "#fce5cd"),
    "image": (0.1, 1.0, 2.4, 0.9, "image x\n(the pixels we change)", "#cfe2f3"),
    "vgg_targets": (3.0, 3.9, 1.9, 1.6, "VGG19\n(once)", "#eeeeee"),
    "vgg_image": (3.0, 0.8, 1.9, 1.3, "VGG19\n(every step)", "#eeeeee"),
    "P": (5.6, 5.0, 2.8, 0.9, "content target P\n(conv4_2)", "#d9ead3"),
    "A": (5.6, 3.4, 2.8, 0.9, "style targets A\n(Grams, conv1_1 ... conv5_1)", "#fce5cd"),
    "F": (5.6, 1.0, 2.8, 0.9, "features F, Grams G", "#cfe2f3"),
    "Lc": (9.1, 4.2, 2.0, 0.8, r"$L_{content}$", "#ffffff"),
    "Ls": (9.1, 2.6, 2.0, 0.8, r"$L_{style}$", "#ffffff"),
    "Ltv": (9.1, -0.2, 2.0, 0.8, r"$L_{tv}$", "#ffffff"),
    "L": (
        11.8,
        2.5,
        2.6,
        1.6,
        r"$L=\alpha L_{content}$" "\n" r"$+\,\beta L_{style}$" "\n" r"$+\,\gamma L_{tv}$",
        "#fff2cc",
    ),
}
ARROWS = [
    ("photo", "vgg_targets"),
    ("painting", "vgg_targets"),
    ("vgg_targets", "P"),
    ("vgg_targets", "A"),
    ("image", "vgg_image"),
    ("vgg_image", "F"),
    ("P", "Lc"),
    ("F", "Lc"),
    ("A", "Ls"),
    ("F", "Ls"),
    ("Lc", "L"),
    ("Ls", "L"),
    ("Ltv", "L"),
]


def _anchor(name: str, side: str) -> tuple[float, float]:
    x, y, w, h, _, _ = BOXES[name]
    return (x + w, y + h / 2) if side == "right" else (x, y + h / 2)


def draw() -> plt.Figure:
    """The schematic as a matplotlib figure (boxes, forward arrows, the gradient in red)."""
    fig, ax = plt.subplots(figsize=(11, 5.4))
    for x, y, w, h, text, colour in BOXES.values():
        ax.add_patch(
            FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.05", fc=colour, ec="#555555")
        )
        ax.text(x + w / 2, y + h / 2, text, ha="center", va="center", fontsize=10)
    for start, end in ARROWS:
        ax.add_patch(
            FancyArrowPatch(
                _anchor(start, "right"),
                _anchor(end, "left"),
                arrowstyle="-|>",
                mutation_scale=12,
                color="#444444",
            )
        )
    ax.add_patch(
        FancyArrowPatch(
            (1.2, 1.0),
            _anchor("Ltv", "left"),
            arrowstyle="-|>",
            connectionstyle="arc3,rad=0.08",
            mutation_scale=12,
            color="#444444",
        )
    )  # TV looks at the pixels themselves
    back = FancyArrowPatch(
        (13.1, 2.45),
        (0.5, 0.95),
        connectionstyle="arc3,rad=-0.3",
        arrowstyle="-|>",
        mutation_scale=14,
        color="#cc0000",
        lw=1.8,
        ls="--",
    )
    ax.add_patch(back)
    ax.text(
        7.2,
        -1.25,
        r"gradient $\partial L / \partial x$ back through VGG19 to the pixels "
        "(L-BFGS or Adam changes x)",
        color="#cc0000",
        ha="center",
        fontsize=10,
    )
    ax.set_xlim(0, 14.6)
    ax.set_ylim(-1.5, 6.1)
    ax.axis("off")
    fig.tight_layout()
    return fig


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    draw().savefig(buffer, format="png", dpi=90)
    return buffer.getvalue()


def embed(notebook: Path, picture: bytes) -> None:
    """Put (or replace) the schematic's markdown cell after the notebook's setup cell."""
    nb = nbformat.read(notebook, as_version=4)
    cell = nbformat.v4.new_markdown_cell(TEXT)
    cell.attachments = {NAME: {"image/png": base64.b64encode(picture).decode()}}
    found = [i for i, c in enumerate(nb.cells) if c.cell_type == "markdown" and MARKER in c.source]
    if found:
        cell.id = nb.cells[found[0]].id
        nb.cells[found[0]] = cell
    else:
        setup = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code")
        nb.cells.insert(setup + 2, cell)  # after the setup cell and the introduction
    nbformat.write(nb, notebook)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--png", type=Path, help="also save the picture here")
    args = parser.parse_args(argv)
    picture = png_bytes()
    if args.png:
        args.png.write_bytes(picture)
    embed(NOTEBOOK, picture)
    print(f"embedded {NAME} ({len(picture) // 1024} KB) in {NOTEBOOK.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
