"""Figures the notebooks share, so that a notebook cell says *what* to show, not how."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np


def show_pooling_windows(feature_map: np.ndarray, pooled: dict[str, np.ndarray], pool: int = 2):
    """A small 2D feature map with its non-overlapping windows outlined, beside the
    output of each pooling mode; the cell each of max and min picks is marked."""
    modes = list(pooled)
    fig, axes = plt.subplots(1, 1 + len(modes), figsize=(3.2 * (1 + len(modes)), 3.4))
    lo, hi = float(feature_map.min()), float(feature_map.max())
    ax = axes[0]
    ax.imshow(feature_map, cmap="viridis", vmin=lo, vmax=hi)
    h, w = feature_map.shape
    for i in range(h):
        for j in range(w):
            ax.text(
                j, i, f"{feature_map[i, j]:g}", ha="center", va="center", color="w", fontsize=11
            )
    for i in range(0, h - pool + 1, pool):
        for j in range(0, w - pool + 1, pool):
            ax.add_patch(
                plt.Rectangle((j - 0.5, i - 0.5), pool, pool, fill=False, lw=3, ec="white")
            )
            window = feature_map[i : i + pool, j : j + pool]
            for mode, marker, colour in (("max", "^", "red"), ("min", "v", "cyan")):
                if mode in pooled:
                    picker = np.argmax if mode == "max" else np.argmin
                    di, dj = np.unravel_index(picker(window), window.shape)
                    ax.plot(j + dj + 0.3, i + di - 0.3, marker, color=colour, ms=9)
    ax.set_title(f"input, {pool}x{pool} windows\n(\u25b2 max pick, \u25bc min pick)")
    for ax, mode in zip(axes[1:], modes, strict=True):
        out = pooled[mode]
        ax.imshow(out, cmap="viridis", vmin=lo, vmax=hi)
        for i in range(out.shape[0]):
            for j in range(out.shape[1]):
                ax.text(j, i, f"{out[i, j]:.3g}", ha="center", va="center", color="w", fontsize=12)
        ax.set_title(f"{mode} pooling")
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    return fig


def show_images(
    rows: dict[str, list[np.ndarray]],
    titles: list[str] | None = None,
    cmap="gray",
    size: float = 2.1,
    colorbar: bool = False,
    vmin: float | None = None,
    vmax: float | None = None,
):
    """A grid of images: one row per key (its label on the left), one column per image."""
    labels = list(rows)
    n_cols = max(len(images) for images in rows.values())
    fig, axes = plt.subplots(
        len(labels), n_cols, figsize=(size * n_cols, size * len(labels)), squeeze=False
    )
    for r, label in enumerate(labels):
        for c in range(n_cols):
            ax = axes[r][c]
            ax.set_xticks([])
            ax.set_yticks([])
            if c < len(rows[label]):
                shown = ax.imshow(rows[label][c], cmap=cmap, vmin=vmin, vmax=vmax)
                if colorbar:
                    fig.colorbar(shown, ax=ax, fraction=0.046, pad=0.04)
            if c == 0:
                ax.set_ylabel(label)
            if r == 0 and titles:
                ax.set_title(titles[c])
    fig.tight_layout()
    return fig


def plot_curves(x, curves: dict[str, list[float]], xlabel: str, ylabel: str, title: str = ""):
    """One line per curve, sharing the x values."""
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for label, ys in curves.items():
        ax.plot(x, ys, marker="o", label=label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return fig


def plot_learning_curves(history: dict[str, list[float]], title: str = ""):
    """Loss and accuracy after every epoch, on the training batches and on the validation
    set, side by side (``history`` as Keras's History.history holds them)."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    epochs = range(1, len(history["loss"]) + 1)
    for ax, metric in zip(axes, ("loss", "accuracy"), strict=True):
        ax.plot(epochs, history[metric], marker="o", label="training batches (while learning)")
        ax.plot(
            epochs, history[f"val_{metric}"], marker="o", label="validation set (after the epoch)"
        )
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_shape_flow(flows: dict[str, list[tuple[str, int]]], title: str = ""):
    """Spatial size (height) after each layer, one line per model; a model that collapses
    ends with a cross at the layer Keras refused (size 0)."""
    fig, ax = plt.subplots(figsize=(8, 4))
    for number, (label, flow) in enumerate(flows.items()):
        names, sizes = zip(*flow, strict=True)
        line = ax.plot(range(len(sizes)), sizes, marker="o", label=label)[0]
        if sizes[-1] == 0:
            ax.plot(len(sizes) - 1, 0, "x", color=line.get_color(), ms=14, mew=3)
        for i, (name, size) in enumerate(flow):
            # Alternate lines label above and below their points, so labels do not collide.
            offset = (0, 8) if number % 2 else (0, -24)
            ax.annotate(
                f"{name}\n{size}",
                (i, size),
                textcoords="offset points",
                xytext=offset,
                ha="center",
                fontsize=8,
                color=line.get_color(),
            )
    ax.set_xlabel("layer")
    ax.set_ylabel("feature-map height and width")
    ax.set_xticks([])
    ax.set_ylim(-6, max(size for flow in flows.values() for _, size in flow) + 8)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return fig


def show_confusion_matrix(true, predicted, labels: list, title: str = ""):
    """Counts of (true, predicted) pairs; the diagonal (correct) is left blank so errors stand out."""
    n = len(labels)
    counts = np.zeros((n, n), dtype=int)
    np.add.at(counts, (np.ravel(true), np.ravel(predicted)), 1)
    errors = counts.astype(float)
    np.fill_diagonal(errors, np.nan)
    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    shown = ax.imshow(errors, cmap="Reds")
    fig.colorbar(shown, ax=ax, fraction=0.046, pad=0.04, label="errors")
    for i in range(n):
        for j in range(n):
            if counts[i, j]:
                colour = "gray" if i == j else "black"
                ax.text(j, i, counts[i, j], ha="center", va="center", fontsize=8, color=colour)
    ax.set_xticks(range(n), labels)
    ax.set_yticks(range(n), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def plot_layer_costs(
    names: list[str], params: list[int], multiply_adds: list[int], title: str = ""
):
    """Side by side, each layer's share of the parameters and of the multiply-adds."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), sharey=True)
    positions = np.arange(len(names))
    for ax, values, label, colour in (
        (axes[0], params, "parameters", "tab:blue"),
        (axes[1], multiply_adds, "multiply-adds per image", "tab:orange"),
    ):
        shares = 100 * np.asarray(values, dtype=float) / sum(values)
        ax.barh(positions, shares, color=colour)
        for y, (share, value) in enumerate(zip(shares, values, strict=True)):
            ax.annotate(
                f"{value / 1e6:.1f}M",
                (share, y),
                xytext=(3, 0),
                textcoords="offset points",
                va="center",
                fontsize=8,
            )
        ax.set_xlabel(f"% of all {label}")
        ax.set_xlim(0, max(shares) * 1.25)
        ax.grid(axis="x", alpha=0.3)
    axes[0].set_yticks(positions, names)
    axes[0].invert_yaxis()
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_ablation(runs: dict[str, dict], title: str = ""):
    """Left: each configuration's validation accuracy by epoch. Right: its final accuracy on the
    images it trained on beside its validation accuracy; the distance between the two is overfitting.
    ``runs`` maps a configuration's name to {"train": float, "val": [per-epoch floats]}."""
    fig, (curves, bars) = plt.subplots(1, 2, figsize=(11, 4))
    for name, run in runs.items():
        curves.plot(range(1, len(run["val"]) + 1), run["val"], marker="o", ms=3, label=name)
    curves.set(xlabel="epoch", ylabel="validation accuracy", title="validation accuracy, by epoch")
    curves.grid(alpha=0.3)
    curves.legend()
    positions = np.arange(len(runs))
    train = [run["train"] for run in runs.values()]
    val = [run["val"][-1] for run in runs.values()]
    bars.bar(positions - 0.2, train, 0.4, label="training images", color="tab:blue")
    bars.bar(positions + 0.2, val, 0.4, label="validation images", color="tab:orange")
    for x, (t, v) in enumerate(zip(train, val, strict=True)):
        bars.annotate(
            f"gap {t - v:.0%}",
            (x, max(t, v)),
            xytext=(0, 3),
            textcoords="offset points",
            ha="center",
            fontsize=8,
        )
    bars.set_xticks(positions, list(runs))
    bars.set(
        ylim=(0, 1.05), ylabel="accuracy after the last epoch", title="training against validation"
    )
    bars.legend(loc="upper right")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def show_per_class_accuracy(true, predicted, labels: list, title: str = ""):
    """One bar per class: the fraction of its test images classified correctly."""
    true, predicted = np.ravel(true), np.ravel(predicted)
    per_class = [np.mean(predicted[true == c] == c) for c in range(len(labels))]
    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.bar(range(len(labels)), per_class, color="tab:green")
    ax.axhline(np.mean(predicted == true), color="black", ls="--", lw=1, label="overall")
    for x, value in enumerate(per_class):
        ax.annotate(
            f"{value:.0%}",
            (x, value),
            xytext=(0, 2),
            textcoords="offset points",
            ha="center",
            fontsize=8,
        )
    ax.set_xticks(range(len(labels)), labels, rotation=30)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("test accuracy")
    ax.set_title(title)
    ax.legend(loc="lower right")
    fig.tight_layout()
    return fig


def show_window_counts(counts: dict[str, np.ndarray]):
    """How many pooling windows cover each pixel, one panel per window setting: one colour
    scale for all panels (a colour means the same count everywhere, shown by the colour
    bar), and each pixel's count written in it."""
    top = max(int(c.max()) for c in counts.values())
    fig, axes = plt.subplots(
        1, len(counts), figsize=(3.6 * len(counts) + 1, 3.9), layout="constrained", squeeze=False
    )
    cmap = plt.get_cmap("viridis", top + 1)  # one colour per count
    for ax, (title, count) in zip(axes[0], counts.items(), strict=True):
        image = ax.imshow(count, cmap=cmap, vmin=-0.5, vmax=top + 0.5)
        for (i, j), value in np.ndenumerate(count):
            ax.text(
                j,
                i,
                str(value),
                ha="center",
                va="center",
                fontsize=9,
                color="white" if value < top / 2 else "black",
            )
        ax.set_title(title, fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
    bar = fig.colorbar(image, ax=axes[0].tolist(), ticks=range(top + 1), shrink=0.85)
    bar.set_label("windows covering the pixel")
    return fig
