"""Seeded procedural style images: painterly textures made from numbers alone.

Each function returns a ``uint8`` array of shape ``(size, size, 3)`` and gives the
same picture for the same ``seed``. They need only numpy and Pillow, so they work
offline and carry no copyright (the project releases them as CC0).

* :func:`brush_strokes` - short, thick, overlapping strokes that follow a smooth flow.
* :func:`mosaic` - stained glass: Voronoi tiles of jewel colours between dark lead lines.
* :func:`swirls` - whirling blue and yellow bands in the manner of Van Gogh's night skies.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PIL import Image, ImageDraw

from .errors import NSTError

# --------------------------------------------------------------------------- helpers


def _hex(colours: list[str]) -> np.ndarray:
    """Turn ``["#rrggbb", ...]`` into a float array (n, 3) in [0, 1]."""
    return np.array([[int(c[i : i + 2], 16) for i in (1, 3, 5)] for c in colours]) / 255.0


def _smooth_noise(rng: np.random.Generator, size: int, scale: float) -> np.ndarray:
    """Gaussian-blurred white noise (size, size), zero mean, unit std; ``scale`` = blur sigma in
    px."""
    noise = rng.standard_normal((size, size))
    f = np.fft.fftfreq(size)
    k2 = f[:, None] ** 2 + f[None, :] ** 2
    out = np.fft.ifft2(np.fft.fft2(noise) * np.exp(-2 * (np.pi * scale) ** 2 * k2)).real
    return (out - out.mean()) / (out.std() + 1e-12)


def _palette_lookup(palette: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Piecewise-linear colour ramp: ``t`` in [0, 1] of any shape -> colours (..., 3)."""
    x = np.clip(t, 0.0, 1.0) * (len(palette) - 1)
    i = np.minimum(x.astype(int), len(palette) - 2)
    w = (x - i)[..., None]
    return palette[i] * (1 - w) + palette[i + 1] * w


def _advect(
    field: np.ndarray, vx: np.ndarray, vy: np.ndarray, steps: int, step: float
) -> np.ndarray:
    """Line integral convolution: average ``field`` (H, W) along the flow (vx, vy) both ways.

    The flow is normalised to unit speed; ``steps`` samples of ``step`` px in each
    direction, with a triangular weight so that streaks fade out at their ends.
    """
    h, w = field.shape
    speed = np.hypot(vx, vy) + 1e-9
    ux, uy = vx / speed, vy / speed
    total = field.copy()
    weight = np.ones_like(field)
    ys0, xs0 = np.mgrid[0:h, 0:w].astype(np.float32)
    for sign in (1.0, -1.0):
        xs, ys = xs0.copy(), ys0.copy()
        for k in range(1, steps + 1):
            ix = np.clip(xs.round().astype(int), 0, w - 1)
            iy = np.clip(ys.round().astype(int), 0, h - 1)
            xs += sign * step * ux[iy, ix]
            ys += sign * step * uy[iy, ix]
            ix = np.mod(xs.round().astype(int), w)
            iy = np.mod(ys.round().astype(int), h)
            wk = 1.0 - k / (steps + 1)
            total += wk * field[iy, ix]
            weight += wk
    return total / weight


def _to_uint8(rgb: np.ndarray) -> np.ndarray:
    """Float image in [0, 1] -> uint8 (H, W, 3)."""
    return np.clip(rgb * 255.0 + 0.5, 0, 255).astype(np.uint8)


# --------------------------------------------------------------------------- textures

_STROKE_PALETTES = [
    # sunset over water: teal, ochre, coral, cream, plum
    ["#1d3b4f", "#2a7f87", "#e9b44c", "#e4572e", "#f3e9d2", "#6b2d5c"],
    # spring meadow: deep green, leaf, lemon, sky, rose
    ["#23402b", "#5c8d3b", "#e8d85a", "#7fb7d9", "#d9738c", "#f4efe1"],
    # autumn: burgundy, rust, gold, olive, slate
    ["#5a1a2b", "#b5462a", "#e3a72f", "#7d7a2f", "#3e5366", "#efe0c2"],
    # harbour at dusk: navy, cobalt, lilac, peach, butter
    ["#14213d", "#2f5aa8", "#9d8ec7", "#f2a07b", "#f6dc7e", "#fbf4e4"],
]


def _stroke_outline(pts: np.ndarray, width: float) -> list[tuple[float, float]]:
    """Polygon around a polyline (n, 2): full width in the middle, tapering to the tail."""
    d = np.gradient(pts, axis=0)
    d /= np.linalg.norm(d, axis=1, keepdims=True) + 1e-9
    normal = np.stack([-d[:, 1], d[:, 0]], axis=1)
    s = np.linspace(0, 1, len(pts))
    half = 0.5 * width * (0.75 + 0.25 * np.sin(np.pi * np.minimum(s * 1.6, 1))) * (1 - 0.55 * s**3)
    left = pts + normal * half[:, None]
    right = pts - normal * half[:, None]
    return [tuple(p) for p in np.concatenate([left, right[::-1]])]


def brush_strokes(size: int = 512, seed: int = 0) -> np.ndarray:
    """Impasto-like painting of short thick strokes that follow a smooth flow field.

    Returns uint8 (size, size, 3). Colours come from one of a few harmonious palettes
    (picked by ``seed``); large strokes are laid first, finer ones on top, and each
    stroke has a rounded head, a tapering tail and bristle lines.
    """
    rng = np.random.default_rng(seed)
    palette = _hex(_STROKE_PALETTES[rng.integers(len(_STROKE_PALETTES))])
    ss = 2  # draw at twice the size, then shrink: smooth, anti-aliased edges
    scale = size / 512 * ss
    angle = _smooth_noise(rng, size, size / 6) * 1.6 + rng.uniform(0, np.pi)
    hue = _smooth_noise(rng, size, size / 7)
    hue = (hue - hue.min()) / (hue.max() - hue.min())
    light = _smooth_noise(rng, size, size / 10)

    base = _palette_lookup(palette, hue * 0.6 + 0.2) * 0.8
    img = Image.fromarray(_to_uint8(base)).resize((size * ss, size * ss), Image.BILINEAR)
    draw = ImageDraw.Draw(img)

    n_strokes = int(2600 * (size / 512) ** 2)
    for width, length, share in [(26, 64, 0.25), (17, 46, 0.4), (10, 30, 0.35)]:
        for _ in range(max(1, int(n_strokes * share))):
            x, y = rng.uniform(0, size, 2)
            iy, ix = int(y) % size, int(x) % size
            t = np.mod(hue[iy, ix] + rng.normal(0, 0.12), 1.0)
            colour = _palette_lookup(palette, np.array(t))
            colour = np.clip(colour * (1 + 0.18 * light[iy, ix] + rng.normal(0, 0.07)), 0, 1)
            w = width * scale * rng.uniform(0.7, 1.3)
            n = max(3, int(length * (size / 512) * rng.uniform(0.6, 1.4) / 4))
            pts = [(x, y)]
            for _ in range(n):  # walk along the flow field, 4 px a step
                a = angle[int(pts[-1][1]) % size, int(pts[-1][0]) % size]
                pts.append((pts[-1][0] + 4 * np.cos(a), pts[-1][1] + 4 * np.sin(a)))
            p = np.array(pts) * ss
            r = w * 0.47
            # a soft shadow down-right of the stroke gives the paint some thickness
            for shift, col in [(1.5 * scale, colour * 0.6), (0.0, colour)]:
                q = p + shift
                fill = tuple(_to_uint8(col).tolist())
                draw.polygon(_stroke_outline(q, w), fill=fill)
                draw.ellipse([q[0, 0] - r, q[0, 1] - r, q[0, 0] + r, q[0, 1] + r], fill=fill)
            # bristle lines: thin lighter and darker tracks inside the stroke
            d = p[1] - p[0]
            normal = np.array([-d[1], d[0]]) / (np.hypot(*d) + 1e-9)
            for _ in range(3):
                off = normal * w * rng.uniform(-0.35, 0.35)
                shade = colour * rng.choice([0.82, 1.12]) + rng.choice([0.0, 0.05])
                cut = rng.integers(len(p) // 2 + 1, len(p) + 1)
                draw.line(
                    [tuple(q) for q in p[:cut] + off],
                    fill=tuple(_to_uint8(np.clip(shade, 0, 1)).tolist()),
                    width=max(1, int(w * rng.uniform(0.06, 0.14))),
                    joint="curve",
                )

    img = img.resize((size, size), Image.LANCZOS)
    return np.asarray(img, dtype=np.uint8).copy()


_GLASS = ["#b3122e", "#1f4fa8", "#168a4a", "#e8a317", "#6a2c91", "#0f8a9c", "#d4561c", "#2b2f8f"]


def mosaic(size: int = 512, seed: int = 0) -> np.ndarray:
    """Stained glass: Voronoi tiles in jewel colours, separated by dark lead lines.

    Returns uint8 (size, size, 3). 196 tiles (a jittered 14 x 14 grid); each glows brighter
    towards its centre, with a faint mottle like hand-made glass.
    """
    rng = np.random.default_rng(seed)
    palette = _hex(_GLASS)
    cells = 14  # one seed per grid cell, jittered: tiles of even, but irregular, size
    cell = size / cells
    gy, gx = np.mgrid[0:cells, 0:cells]
    sx = (gx + rng.uniform(0.1, 0.9, gx.shape)) * cell
    sy = (gy + rng.uniform(0.1, 0.9, gy.shape)) * cell
    seeds = np.stack([sx.ravel(), sy.ravel()], axis=1)

    ys, xs = np.mgrid[0:size, 0:size].astype(np.float32) + 0.5
    d1 = np.full((size, size), np.inf, np.float32)
    d2 = np.full((size, size), np.inf, np.float32)
    owner = np.zeros((size, size), int)
    for i, (px, py) in enumerate(seeds):  # keep the nearest and second-nearest seed
        d = np.hypot(xs - px, ys - py)
        closer = d < d1
        d2 = np.where(closer, d1, np.minimum(d2, d))
        owner = np.where(closer, i, owner)
        d1 = np.where(closer, d, d1)

    # colours: neighbouring tiles share a hue region, with frequent contrasting pieces
    region = _smooth_noise(rng, size, size / 5)
    n = len(seeds)
    r_at_seed = region[
        np.clip(seeds[:, 1].astype(int), 0, size - 1), np.clip(seeds[:, 0].astype(int), 0, size - 1)
    ]
    idx = np.floor((r_at_seed - r_at_seed.min()) / (np.ptp(r_at_seed) + 1e-9) * 3.99).astype(int)
    idx = np.where(
        rng.random(n) < 0.45, rng.integers(len(palette), size=n), idx * 2 + rng.integers(2, size=n)
    )
    tile_colour = palette[idx % len(palette)] * rng.uniform(0.75, 1.15, (n, 1))

    # glow towards each tile's centre and a mottled surface
    glow = 1.25 - 0.6 * np.clip(d1 / (cell * 0.9), 0, 1)
    mottle = 1 + 0.08 * _smooth_noise(rng, size, 3)
    rgb = tile_colour[owner] * (glow * mottle)[..., None]

    # lead lines where the two nearest seeds are almost equally far (the bisector)
    edge = (d2 - d1) / 2  # distance to the tile border in px
    lead = size / 512 * 3.2
    shade = np.clip((edge - lead) / 1.5, 0, 1)[..., None]
    lead_col = np.array([0.10, 0.09, 0.08]) + 0.06 * np.clip(1 - edge / lead, 0, 1)[..., None]
    rgb = rgb * shade + lead_col * (1 - shade)
    return _to_uint8(np.clip(rgb, 0, 1))


_NIGHT = ["#0b1a3d", "#16337a", "#2f5fb3", "#6c9bd2", "#b9d3e8", "#f4e27a", "#f2c230"]


def swirls(size: int = 512, seed: int = 0) -> np.ndarray:
    """Van-Gogh-like whirls: blue and yellow bands that spiral around a few vortices.

    Returns uint8 (size, size, 3). A stream function built from point vortices plus
    a gentle wind gives both the band pattern (its contour lines) and the flow along
    which noise is smeared into brush streaks (line integral convolution).
    """
    rng = np.random.default_rng(seed)
    palette = _hex(_NIGHT)
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float32) / size

    psi = 0.9 * ys + 0.25 * _smooth_noise(rng, size, size / 5)  # the wind: mostly horizontal
    centres: list[np.ndarray] = []
    while len(centres) < 4:  # vortices well apart from each other
        c = rng.uniform(0.12, 0.88, 2)
        if all(np.hypot(*(c - o)) > 0.3 for o in centres):
            centres.append(c)
    radii = rng.uniform(0.09, 0.18, len(centres))
    spin = np.where(rng.random(len(centres)) < 0.75, 1.0, -1.0)
    for (cx, cy), rad, s in zip(centres, radii, spin):
        r = np.hypot(xs - cx, ys - cy)
        psi += s * 0.35 * np.log(r + 0.02) * np.exp(-((r / (rad * 2.2)) ** 2))
    gy, gx = np.gradient(psi)
    vx, vy = gy, -gx  # velocity perpendicular to the gradient: the flow follows the contours

    # bands: contours of psi, roughened so that they look hand-drawn
    bands = np.sin(2 * np.pi * (psi * 6 + 0.15 * _smooth_noise(rng, size, size / 40)))
    streaks = _advect(
        rng.standard_normal((size, size)).astype(np.float32), vx, vy, steps=14, step=1.2
    )
    streaks /= streaks.std() + 1e-9
    glow = _smooth_noise(rng, size, size / 8)  # broad lighter and darker regions of sky
    t = 0.36 + 0.2 * bands + 0.08 * streaks + 0.1 * glow

    # the vortices are stars: small bright cores with a halo of yellow rings
    for (cx, cy), rad in zip(centres, radii):
        r = np.hypot(xs - cx, ys - cy)
        t += (
            0.5 * np.exp(-((r / (rad * 0.3)) ** 2))
            + 0.25 * np.exp(-((r / rad) ** 2)) * (1 + bands) / 2
        )
    rgb = _palette_lookup(palette, t) * (1 + 0.06 * streaks[..., None])
    return _to_uint8(np.clip(rgb, 0, 1))


# --------------------------------------------------------------------------- registry

TEXTURES: dict[str, Callable[..., np.ndarray]] = {
    "brush_strokes": brush_strokes,
    "mosaic": mosaic,
    "swirls": swirls,
}


def make_texture(name: str, size: int = 512, seed: int = 0) -> np.ndarray:
    """Make the texture called ``name`` (a key of :data:`TEXTURES`): uint8 (size, size, 3)."""
    if name not in TEXTURES:
        known = ", ".join(sorted(TEXTURES))
        raise NSTError(f"Unknown texture {name!r}: use one of {known}.")
    if not isinstance(size, int) or size < 16:
        raise NSTError(
            f"Texture size must be a whole number of pixels, at least 16 (got {size!r})."
        )
    return TEXTURES[name](size=size, seed=seed)
