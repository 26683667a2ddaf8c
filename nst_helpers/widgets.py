"""The style studio: a small ipywidgets application for class (notebook 07).

``studio = StyleStudio(); studio.show()`` displays:

* two pickers (content, style) with thumbnails of the built-in images and an upload
  button for your own photo (ipywidgets 7 and 8 upload values both handled; a file that
  is not an image gets a message, not a traceback);
* sliders and choices for size, steps, the three loss weights, optimizer, starting image,
  colour preservation and a second style to blend in;
* Run / Stop / Save buttons, a progress bar, a preview and a loss plot updated in place,
  and a side-by-side comparison of the last results with their settings.

Stop sets a flag that :func:`nst_helpers.optimize.stylize` polls (``should_stop``) after
each step, returning the best image so far. The controls make one
:class:`~nst_helpers.settings.StyleSettings`; Save writes it as JSON and :meth:`StyleStudio.load`
sets the controls from such a file again. Only core ipywidgets are used. All logic is in
plain methods (``run``, ``stop``, ``save``, ``settings``) so that tests can drive it headlessly.

Where the optimization runs (``StyleStudio(mode=...)``)
-------------------------------------------------------

The kernel handles one message at a time: while the Run click's handler computes, the Stop
click waits in a queue. Two ways around that, and neither works everywhere:

``"main"``
    The run steps on the kernel's main thread, inside the Run click's handler (or the cell
    that called :meth:`StyleStudio.run`). After every step the callback lets the kernel
    handle the widget messages that are waiting (the Stop click) with ``jupyter-ui-poll``;
    cells run meanwhile are held back and run after the run ends. Widget updates made on
    the main thread, within the request being handled, are sent at once. This is what
    Colab needs: there, updates made from a background thread never reach the page
    (googlecolab/colabtools#3373). ``jupyter-ui-poll`` needs ipykernel 6's
    ``do_one_iteration`` (Colab's kernel is built on ipykernel 6 at the time of writing);
    ipykernel 7 has no such method, and the library's attempt to support it replaces a lock
    that ipykernel 7.4 uses, which stops the kernel from answering at all (tried: every later
    cell hangs). So :func:`kernel_can_poll` allows polling only with ipykernel 6. Where
    polling is impossible the run still shows its progress, and *Interrupt* (Ctrl-C) ends it
    with the best image so far, as ``stylize`` does for Ctrl-C.
``"thread"``
    The run goes to a worker thread and the click handler returns at once, so the kernel is
    free to handle the Stop click. Widget values set from the thread are sent as messages
    too, which JupyterLab and Jupyter Notebook show, but Colab does not.

``"auto"`` (the default, :func:`choose_mode`) takes ``"main"`` in Colab (``google.colab`` is
imported there) and in any kernel where :func:`kernel_can_poll` is true, ``"thread"``
otherwise -- which is JupyterLab with ipykernel 7 and plain Python (the tests). Always
``"main"`` would lose Stop in JupyterLab with ipykernel 7; always ``"thread"`` would lose
the progress, the preview and the result in Colab. Outside a kernel nothing can be polled
and :func:`widget_events` yields a poll that does nothing, so scripts and tests just run.
"""

from __future__ import annotations

import inspect
import io
import json
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ipywidgets as w
import tensorflow as tf

from . import config
from .errors import NSTError
from .settings import INITS, OPTIMIZERS, StyleSettings

THUMBNAIL_PX = 96
COMPARE_LAST = 4
MODES = ("auto", "main", "thread")
POLL_EVENTS = 10  # widget messages handled, at most, after each step in "main" mode


def in_colab() -> bool:
    """True in a Google Colab runtime (its kernel imports ``google.colab``)."""
    return "google.colab" in sys.modules


def running_kernel() -> Any | None:
    """The IPython kernel this code runs in, or None (plain Python, a terminal IPython)."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with ipywidgets
        return None
    shell = get_ipython()
    return getattr(shell, "kernel", None) if shell is not None else None


def kernel_can_poll(kernel: Any | None = None) -> bool:
    """True where ``jupyter-ui-poll`` can handle widget messages in the middle of a run.

    That needs ipykernel 6 (Colab's kernel too): a coroutine ``do_one_iteration`` and no
    ``_main_asyncio_lock``. ipykernel 7 has no ``do_one_iteration``, and the library replaces
    that lock in a way that leaves ipykernel 7.4 unable to handle any further message;
    ipykernel 5 handles a message only on the main thread, and the library polls from
    another one. It also needs the library's hook that runs the cells held back
    (``_post_run_cell``, jupyter-ui-poll 1.1), which :func:`widget_events` calls itself after
    a click handler; without it, polling would leave the kernel holding every later cell.
    """
    kernel = running_kernel() if kernel is None else kernel
    if kernel is None or hasattr(kernel, "_main_asyncio_lock"):
        return False
    if not inspect.iscoroutinefunction(getattr(kernel, "do_one_iteration", None)):
        return False
    try:
        from jupyter_ui_poll._poll import KernelWrapper
    except ImportError:
        return False
    return hasattr(KernelWrapper, "_post_run_cell")


def choose_mode(mode: str = "auto") -> str:
    """``"main"`` or ``"thread"``: where the studio runs the optimization (module docstring)."""
    if mode not in MODES:
        raise NSTError(f"mode must be one of {MODES}, not {mode!r}")
    if mode != "auto":
        return mode
    return "main" if in_colab() or kernel_can_poll() else "thread"


def _no_poll(count: int = 1) -> None:
    """Handle no widget messages (outside a kernel, or where polling is impossible)."""


@contextmanager
def widget_events() -> Iterator[Callable[[int], None]]:
    """``with widget_events() as poll:`` -- ``poll(n)`` handles up to n waiting widget messages.

    For long computations on the kernel's main thread: call ``poll`` between steps and a
    button's click is handled at once instead of after the computation. Uses
    ``jupyter-ui-poll`` where :func:`kernel_can_poll`; anywhere else (no IPython kernel,
    ipykernel 7, the library missing) ``poll`` does nothing and the computation just runs.
    """
    if not kernel_can_poll():
        yield _no_poll
        return
    from jupyter_ui_poll import ui_events

    events = ui_events()
    try:
        with events as poll:
            yield poll
    finally:
        _release_held_cells(events)


def _release_held_cells(events: Any) -> None:
    """Run the cells ``jupyter-ui-poll`` held back, when the poller was not inside a cell.

    The library holds back cells sent while it polls and runs them when the *cell* that
    polled ends (IPython's ``post_run_cell``). A button's click handler is not a cell, so
    no such event comes, and the kernel would hold back every later cell: release them here.
    """
    kernel = running_kernel()
    get_parent = getattr(kernel, "get_parent", None)
    parent = get_parent() if callable(get_parent) else getattr(kernel, "_parent_header", {})
    if (parent or {}).get("header", {}).get("msg_type") == "execute_request":
        return  # inside a cell: the library does it when the cell ends
    release = getattr(events, "_post_run_cell", None)
    if callable(release):
        release()


def uploaded_files(value: Any) -> list[tuple[str, bytes]]:
    """(name, bytes) for each file in a ``FileUpload.value``.

    ipywidgets 8 gives a tuple of dicts with ``name`` and ``content`` (a memoryview);
    ipywidgets 7 gives a dict ``name -> {"metadata": {...}, "content": bytes}``.
    """
    if not value:
        return []
    if isinstance(value, dict):  # ipywidgets 7
        return [(name, bytes(item["content"])) for name, item in value.items()]
    return [(item["name"], bytes(item["content"])) for item in value]  # ipywidgets 8


def png_bytes(image) -> bytes:
    """PNG file contents of a (1, H, W, 3) or (H, W, 3) image in [0, 1]."""
    from PIL import Image

    from .images import to_uint8

    buffer = io.BytesIO()
    Image.fromarray(to_uint8(image)).save(buffer, format="PNG")
    return buffer.getvalue()


def loss_plot_png(history, width_px: int = 360, height_px: int = 220) -> bytes:
    """A small log-scale plot of the total loss per step, as PNG bytes (thread-safe: no pyplot)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width_px / 100, height_px / 100), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    if len(history):
        axes.plot(history["step"], history["total"], color="tab:blue")
        axes.set_yscale("log")
    axes.set_xlabel("step")
    axes.set_ylabel("total loss")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def next_free_path(folder: Path, stem: str = "studio", suffix: str = ".png") -> Path:
    """``folder/stem_001.png``, or the first number whose PNG and JSON do not exist yet."""
    for number in range(1, 100_000):
        path = folder / f"{stem}_{number:03d}{suffix}"
        if not path.exists() and not path.with_suffix(".json").exists():
            return path
    raise NSTError(f"{folder} is full of studio results; choose another folder")


class ImagePicker:
    """Choose an image: thumbnails of built-in images, or an uploaded file.

    ``picker.image`` is the chosen image as a (1, H, W, 3) tensor (full size) and
    ``picker.label`` its name.
    """

    def __init__(self, title: str, names: list[str], selected: str | None = None):
        from .data import describe, load_style

        self.title = title
        self.images: dict[str, tf.Tensor] = {}
        self.buttons: dict[str, w.Button] = {}
        cards, missing = [], []
        for name in names:
            try:
                image = load_style(name)
            except NSTError:
                missing.append(name)
                continue
            self.images[name] = image
            button = w.Button(
                description=name,
                tooltip=describe(name),
                layout=w.Layout(width=f"{THUMBNAIL_PX + 8}px"),
            )
            button.on_click(lambda _, chosen=name: self.select(chosen))
            self.buttons[name] = button
            thumbnail = w.Image(
                value=png_bytes(_thumbnail(image)),
                format="png",
                layout=w.Layout(width=f"{THUMBNAIL_PX}px"),
            )
            cards.append(w.VBox([thumbnail, button]))
        self.upload = w.FileUpload(accept="image/*", multiple=False, description="Upload")
        self.upload.observe(self._on_upload, names="value")
        self.message = w.HTML()
        note = f" (not available offline: {', '.join(missing)})" if missing else ""
        header = w.HTML(f"<b>{title}</b>{note}")
        self.widget = w.VBox(
            [
                header,
                w.HBox(cards, layout=w.Layout(flex_flow="row wrap")),
                w.HBox([self.upload, self.message]),
            ]
        )
        self.label = ""
        self.image: tf.Tensor | None = None
        if self.images:
            self.select(selected if selected in self.images else next(iter(self.images)))

    def select(self, name: str) -> None:
        """Choose a built-in image by name."""
        if name not in self.images:
            raise NSTError(f"{name!r} is not among {list(self.images)}")
        self.label, self.image = name, self.images[name]
        for other, button in self.buttons.items():
            button.button_style = "success" if other == name else ""
        self.message.value = ""

    def load_upload(self, name: str, data: bytes) -> bool:
        """Use an uploaded file; on a bad file show a message and keep the previous choice."""
        from .images import load_image

        try:
            image = load_image(data)
        except NSTError as error:
            self.message.value = f"<span style='color:#b00'>{name}: {_html(str(error))}</span>"
            return False
        self.label, self.image = name, image
        for button in self.buttons.values():
            button.button_style = ""
        self.message.value = f"using <b>{_html(name)}</b> ({image.shape[2]}x{image.shape[1]})"
        return True

    def _on_upload(self, change) -> None:
        for name, data in uploaded_files(change["new"]):
            self.load_upload(name, data)


@dataclass
class StudioRun:
    """One finished run: its result and the labels of its images."""

    result: Any
    content: str
    styles: list[str]

    @property
    def settings(self) -> StyleSettings:
        return self.result.settings


class StyleStudio:
    """The studio application; see the module docstring."""

    def __init__(
        self, output_dir: str | Path = "outputs/studio", extractor=None, mode: str = "auto"
    ):
        from .data import MANIFEST, may_show

        self.mode = choose_mode(mode)

        contents = [n for n, e in MANIFEST.items() if e.kind == "content" and may_show(n)]
        styles = [n for n, e in MANIFEST.items() if e.kind == "style"]
        self.output_dir = Path(output_dir)
        self.extractor = extractor
        self.content = ImagePicker("Content photo", contents, "tubingen")
        self.style = ImagePicker("Style painting", styles, "starry_night")
        self._build_controls(styles)
        self.run_button = w.Button(description="Run", button_style="primary", icon="play")
        self.stop_button = w.Button(
            description="Stop", button_style="danger", icon="stop", disabled=True
        )
        self.save_button = w.Button(description="Save", icon="save", disabled=True)
        self.progress = w.IntProgress(value=0, min=0, max=1, description="progress")
        self.status = w.HTML("Choose images and settings, then press Run.")
        # Hidden until they have a picture (an empty Image shows a broken-image icon).
        self.preview = w.Image(format="png", layout=w.Layout(max_width="512px", display="none"))
        self.loss_plot = w.Image(format="png", layout=w.Layout(width="360px", display="none"))
        self.comparison = w.HBox(layout=w.Layout(flex_flow="row wrap"))
        self.run_button.on_click(lambda _: self.run())
        self.stop_button.on_click(lambda _: self.stop())
        self.save_button.on_click(lambda _: self.save())
        buttons = w.HBox([self.run_button, self.stop_button, self.save_button])
        self.widget = w.VBox(
            [
                self.content.widget,
                self.style.widget,
                w.VBox(list(self.controls.values())),
                buttons,
                self.progress,
                self.status,
                w.HBox([self.preview, self.loss_plot], layout=w.Layout(align_items="flex-start")),
                w.HTML("<b>Last results</b>"),
                self.comparison,
            ]
        )
        self.history: list[StudioRun] = []
        self.saved: list[Path] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._running = False
        self._poll: Callable[[int], None] = _no_poll
        self._last_refresh = 0.0

    def _build_controls(self, styles: list[str]) -> None:
        """One widget per setting the studio offers, named after the setting."""
        d, style = StyleSettings(), {"description_width": "110px"}
        self.controls = {
            "size": w.IntSlider(
                config.defaults().size,
                min=32,
                max=1024,
                step=32,
                description="size (px)",
                style=style,
            ),
            "steps": w.IntSlider(d.steps, min=1, max=500, description="steps", style=style),
            "style_weight": w.FloatLogSlider(
                d.style_weight,
                base=10,
                min=-6,
                max=-1,
                style=style,
                description="style weight",
                readout_format=".1e",
            ),
            "content_weight": w.FloatLogSlider(
                d.content_weight, base=10, min=-2, max=2, description="content weight", style=style
            ),
            "tv_weight": w.FloatLogSlider(
                d.tv_weight,
                base=10,
                min=0,
                max=7,
                style=style,
                description="TV weight",
                readout_format=".1e",
            ),
            "optimizer": w.Dropdown(
                options=OPTIMIZERS, value=d.optimizer, description="optimizer", style=style
            ),
            "init": w.Dropdown(
                options=INITS, value="content", description="start from", style=style
            ),
            "preserve_colors": w.Dropdown(
                # "" for "no": ipywidgets 8 takes a value of None for "nothing selected"
                options=[("no", ""), ("luminance", "luminance"), ("histogram", "histogram")],
                value="",
                description="keep colours",
                style=style,
            ),
            "blend_with": w.Dropdown(
                options=["(none)", *styles], value="(none)", description="blend with", style=style
            ),
            "blend": w.FloatSlider(
                0.5, min=0.0, max=1.0, step=0.05, description="first style share", style=style
            ),
        }
        for name, control in self.controls.items():
            setattr(self, name, control)

    # ------------------------------------------------------------------ reading the controls

    def settings(self) -> StyleSettings:
        """The current choices as one :class:`StyleSettings` (its checks apply)."""
        values = {name: self.controls[name].value for name in STUDIO_SETTINGS}
        values["preserve_colors"] = values["preserve_colors"] or None
        if self.blend_with.value != "(none)":
            values["style_blend"] = (round(self.blend.value, 4), round(1 - self.blend.value, 4))
        return StyleSettings(**values)

    def style_names(self) -> list[str]:
        """The chosen painting, and the one blended in if any."""
        blend = self.blend_with.value
        return [self.style.label] + ([blend] if blend != "(none)" else [])

    def apply(self, settings: StyleSettings, styles: list[str] | None = None) -> None:
        """Set the controls from ``settings`` (e.g. loaded from a saved JSON)."""
        unset = {"size": self.size.value, "preserve_colors": ""}  # controls that cannot be None
        for name in STUDIO_SETTINGS:
            value = getattr(settings, name)
            self.controls[name].value = unset.get(name) if value is None else value
        if styles and len(styles) > 1 and settings.style_blend:
            self.blend_with.value, self.blend.value = styles[1], settings.style_blend[0]
        else:
            self.blend_with.value = "(none)"

    def load(self, path: str | Path) -> StyleSettings:
        """Set the controls (and the painting, if built in) from a JSON written by :meth:`save`."""
        record = json.loads(Path(path).read_text())
        settings = StyleSettings.from_dict(record)
        styles = record.get("styles") or []
        if styles and styles[0] in self.style.images:
            self.style.select(styles[0])
        if record.get("content") in self.content.images:
            self.content.select(record["content"])
        self.apply(settings, styles)
        return settings

    # ------------------------------------------------------------------ actions

    @property
    def running(self) -> bool:
        return self._running

    def run(self, blocking: bool = False) -> None:
        """Run the optimization with the current settings.

        In ``"thread"`` mode it starts a worker thread and returns at once, unless
        ``blocking``. In ``"main"`` mode it always returns when the run has ended, having
        handled widget clicks (Stop) between steps; ``blocking`` changes nothing there.
        """
        if self.running:
            self.status.value = "A run is already going; press Stop first."
            return
        if self.content.image is None or self.style.image is None:
            self.status.value = "Choose a content image and a style image first."
            return
        try:
            settings = self.settings()
        except NSTError as error:
            self.status.value = f"<span style='color:#b00'>{_html(str(error))}</span>"
            return
        self._stop.clear()
        self._running = True
        self.run_button.disabled, self.stop_button.disabled, self.save_button.disabled = (
            True,
            False,
            True,
        )
        self.progress.max, self.progress.value = settings.steps, 0
        self.status.value = (
            f"Running {settings.optimizer} for {settings.steps} steps at {settings.size} px..."
        )
        job = (settings, self.content.label, self.style_names())
        if self.mode == "main":
            try:
                with widget_events() as poll:
                    self._poll = poll
                    self._work(*job)
            finally:
                self._poll = _no_poll
                self._end_run()  # also when the polling could not start
        elif blocking:
            self._work(*job)
        else:
            self._thread = threading.Thread(target=self._work, args=job, daemon=True)
            self._thread.start()

    def wait(self, timeout: float | None = None) -> None:
        """Block until the current run ends (for tests and scripts; in "main" mode it has)."""
        if self._thread is not None:
            self._thread.join(timeout)

    def stop(self) -> None:
        """Ask the running optimization to end; it keeps the best image so far."""
        if self.running:
            self._stop.set()
            self.status.value = "Stopping after the current step..."

    def save(self) -> Path:
        """Write the last result as PNG plus its settings as JSON; never overwrites."""
        from .images import save_image

        if not self.history:
            raise NSTError("nothing to save yet: press Run first")
        last = self.history[-1]
        self.output_dir.mkdir(parents=True, exist_ok=True)
        path = next_free_path(self.output_dir)
        save_image(last.result.image, path)
        last.settings.to_json(
            path.with_suffix(".json"),
            content=last.content,
            styles=last.styles,
            image=path.name,
            result=_summary(last.result),
        )
        self.saved.append(path)
        record = path.with_suffix(".json").name
        self.status.value = f"Saved <code>{path}</code> and its settings (<code>{record}</code>)."
        return path

    def show(self) -> None:
        """Display the studio in the notebook."""
        from IPython.display import display

        display(self.widget)

    # ------------------------------------------------------------------ the run

    def _image(self, name: str) -> tf.Tensor:
        return self.style.images[name] if name in self.style.images else _load(name)

    def _work(self, settings: StyleSettings, content: str, styles: list[str]) -> None:
        from .optimize import build_extractor, stylize

        try:
            paintings = [self.style.image] + [self._image(name) for name in styles[1:]]
            self.extractor = self.extractor or build_extractor(settings, log=lambda line: None)
            result = stylize(
                self.content.image,
                paintings,
                settings,
                extractor=self.extractor,
                callback=self._on_step,
                callback_every=1,
                should_stop=self._stop.is_set,
                progress=False,
                log=lambda line: None,
            )
        except NSTError as error:
            self.status.value = f"<span style='color:#b00'>{_html(str(error))}</span>"
        except Exception as error:  # show, don't lose, an unexpected failure in the thread
            failure = f"Run failed: {type(error).__name__}: {_html(str(error))}"
            self.status.value = f"<span style='color:#b00'>{failure}</span>"
        else:
            self._finish(StudioRun(result, content, styles))
        finally:
            self._end_run()

    def _end_run(self) -> None:
        self.run_button.disabled, self.stop_button.disabled = False, True
        self.save_button.disabled = not self.history
        self._running = False

    def _on_step(self, step: int, image: tf.Tensor, terms: dict) -> None:
        self.progress.value = min(step, self.progress.max)
        now = time.perf_counter()
        if now - self._last_refresh > 0.5 or step == self.progress.max:  # keep the browser calm
            self._last_refresh = now
            self.preview.value = png_bytes(image)
            self.preview.layout.display = ""
            self.status.value = f"step {step}/{self.progress.max}: loss {terms['total']:.4g}"
            if self.mode == "main" and self._poll is _no_poll and running_kernel() is not None:
                self.status.value += " (Stop cannot be clicked in this kernel: use Interrupt)"
        self._poll(POLL_EVENTS)  # "main" mode: handle a Stop click now; should_stop sees it

    def _finish(self, run: StudioRun) -> None:
        result = run.result
        self.history.append(run)
        self.preview.value = png_bytes(result.image)
        self.loss_plot.value = loss_plot_png(result.history)
        self.preview.layout.display = self.loss_plot.layout.display = ""
        how = "stopped early" if result.interrupted else "done"
        self.status.value = (
            f"{how}: {result.steps} steps in {result.seconds:.1f} s. Press Save to keep it."
        )
        self.comparison.children = [_result_card(r) for r in self.history[-COMPARE_LAST:]]


STUDIO_SETTINGS = (
    "size",
    "steps",
    "style_weight",
    "content_weight",
    "tv_weight",
    "optimizer",
    "init",
    "preserve_colors",
)


def _summary(result) -> dict:
    """What a saved JSON records about the run's outcome."""
    return {
        "seconds": round(result.seconds, 2),
        "steps_done": result.steps,
        "stopped_early": result.stop_reason,
        "final_loss": float(result.history["total"].iloc[-1]) if len(result.history) else None,
        "weights": result.weights_source.describe() if result.weights_source else None,
        "saved_at": time.strftime("%Y-%m-%d %H:%M:%S"),
    }


def _thumbnail(image: tf.Tensor) -> tf.Tensor:
    from .images import resize_max_dim

    return resize_max_dim(image, THUMBNAIL_PX)


def _load(name: str) -> tf.Tensor:
    from .data import load_style

    return load_style(name)


def _result_card(run: StudioRun) -> w.VBox:
    s = run.settings
    blend = f" + {run.styles[1]} ({s.style_blend[1]:.0%})" if len(run.styles) > 1 else ""
    lines = [
        f"{run.content} × {run.styles[0]}{blend}",
        f"{s.size} px, {run.result.steps} {s.optimizer} steps",
        f"style {s.style_weight:.1e}, content {s.content_weight:.2g}, TV {s.tv_weight:.1e}",
        f"start {s.init}, colours {s.preserve_colors or 'from style'}",
    ]
    thumb = w.Image(value=png_bytes(run.result.image), format="png", layout=w.Layout(width="200px"))
    return w.VBox(
        [thumb, w.HTML("<br>".join(_html(line) for line in lines))],
        layout=w.Layout(margin="0 8px 8px 0"),
    )


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
