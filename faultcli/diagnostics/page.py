"""One PNG page per recording: waveform, spectrum, spectrogram, kurtogram, envelope spectrum with the
characteristic frequencies marked, the strongest matches and (given) a model's verdict."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from faultcli.diagnostics.bearings import LINES  # noqa: E402
from faultcli.diagnostics.envelope import EnvelopeSpectrum  # noqa: E402
from faultcli.diagnostics.kurtogram import Kurtogram  # noqa: E402
from faultcli.diagnostics.matching import LineMatch  # noqa: E402
from faultcli.runs import atomic_path  # noqa: E402

COLORS = {"BPFO": "tab:red", "BPFI": "tab:blue", "BSF": "tab:green", "FTF": "tab:purple", "1X": "0.45"}
MAX_POINTS = 20000  # waveform points drawn: a 10 s recording at 12 kHz decimated for drawing only


def _short_time_power(x: np.ndarray, rate: float, nper: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(freqs, segment centre times, power density (F, T)) of Hann-windowed half-overlapping segments
    (the quantities of Welch's method and the spectrogram; numpy only, scipy.signal is slow to import)."""
    nper = min(nper, len(x))
    step = max(nper // 2, 1)
    starts = np.arange(0, len(x) - nper + 1, step)
    w = np.hanning(nper)
    segments = (x[starts[:, None] + np.arange(nper)] - x.mean()) * w
    power = np.abs(np.fft.rfft(segments, axis=1)) ** 2 / (rate * (w**2).sum())
    power[:, 1:-1] *= 2  # one-sided
    return np.fft.rfftfreq(nper, 1 / rate), (starts + nper / 2) / rate, power.T


def _waveform(ax, x: np.ndarray, rate: float, stats: dict[str, float]) -> None:
    step = max(len(x) // MAX_POINTS, 1)
    n = len(x) // step
    t = np.arange(n) * step / rate
    # draw each step's extreme values so impacts survive the thinning
    chunks = x[: n * step].reshape(n, step)
    ax.fill_between(t, chunks.min(axis=1), chunks.max(axis=1), color="tab:blue", lw=0.3)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("amplitude")
    ax.set_title(
        f"Waveform  RMS {stats['rms']:.3g}  peak {stats['peak']:.3g}  crest {stats['crest_factor']:.2f}  "
        f"kurtosis {stats['kurtosis']:.2f}",
        fontsize=9,
    )
    ax.set_xlim(0, len(x) / rate)


def _spectrum(ax, x: np.ndarray, rate: float, band: tuple[float, float]) -> None:
    f, _, power = _short_time_power(x, rate, 4096)
    p = power.mean(axis=1)
    ax.plot(f / 1000, 10 * np.log10(p + 1e-30), lw=0.7)
    ax.axvspan(band[0] / 1000, band[1] / 1000, color="tab:orange", alpha=0.2, label="demodulation band")
    ax.set_xlabel("frequency (kHz)")
    ax.set_ylabel("PSD (dB)")
    ax.set_title("Spectrum (Welch)", fontsize=9)
    ax.legend(fontsize=7, loc="upper right")
    ax.set_xlim(0, rate / 2000)


def _spectrogram(ax, x: np.ndarray, rate: float) -> None:
    nper = 256 if len(x) >= 4096 else max(len(x) // 16, 16)
    f, t, s = _short_time_power(x, rate, nper)
    db = 10 * np.log10(s + 1e-30)
    ax.imshow(
        db,
        origin="lower",
        aspect="auto",
        extent=(t[0], t[-1], 0, f[-1] / 1000),
        cmap="magma",
        vmin=np.percentile(db, 5),
        vmax=np.percentile(db, 99.5),
    )
    ax.set_xlabel("time (s)")
    ax.set_ylabel("frequency (kHz)")
    ax.set_title("Spectrogram", fontsize=9)


def _kurtogram(ax, k: Kurtogram | None, band: tuple[float, float], rate: float) -> None:
    if k is None:
        ax.axis("off")
        ax.text(0.5, 0.5, f"band given: {band[0]:g}-{band[1]:g} Hz\n(no kurtogram)", ha="center", va="center")
        return
    width = max(len(row) for row in k.kurtosis) * 3  # a grid every row's bands divide
    image = np.vstack([np.repeat(row, width // len(row)) for row in k.kurtosis])
    ax.imshow(image, aspect="auto", origin="upper", cmap="viridis", extent=(0, rate / 2000, len(k.levels), 0))
    ax.set_yticks(np.arange(len(k.levels)) + 0.5, [f"{lv:g}" for lv in k.levels], fontsize=7)
    row = k.levels.index(k.best_level)
    ax.add_patch(plt.Rectangle((band[0] / 1000, row), (band[1] - band[0]) / 1000, 1, fill=False, ec="red", lw=1.5))
    ax.set_xlabel("frequency (kHz)")
    ax.set_ylabel("level")
    ax.set_title(
        f"Fast kurtogram: best {band[0]:g}-{band[1]:g} Hz, level {k.best_level:g}, SK {k.best_kurtosis:.2f}",
        fontsize=9,
    )


def _envelope(ax, ses: EnvelopeSpectrum, rpm: float, orders: dict[str, float], harmonics: int, top: list) -> None:
    shaft = rpm / 60.0
    o = ses.orders(rpm)
    max_order = harmonics * max(orders.values()) * 1.08
    keep = (o <= max_order) & (o > 0)
    ax.plot(o[keep], ses.amplitude[keep], color="k", lw=0.6)
    ymax = ses.amplitude[keep].max() if keep.any() else 1.0
    for h in range(1, int(max_order) + 1):
        ax.axvline(h, color=COLORS["1X"], lw=0.6, ls=":", alpha=0.6)
    for line in LINES:
        for h in range(1, harmonics + 1):
            ax.axvline(h * orders[line], color=COLORS[line], lw=0.9, ls="--", alpha=0.8, label=line if h == 1 else None)
        if line == "BPFI":  # an inner race turns with the shaft: its lines carry shaft-rate sidebands
            for h in range(1, harmonics + 1):
                for side in (-1, 1):
                    ax.axvline(h * orders[line] + side, color=COLORS[line], lw=0.5, ls=":", alpha=0.6)
    for m in top[:3]:
        ax.annotate(
            f"{m.label()} {m.strength_db:.1f} dB",
            (m.order, m.amplitude),
            xytext=(4, 4),
            textcoords="offset points",
            fontsize=8,
            color=COLORS[m.line],
        )
    ax.set_xlim(0, max_order)
    ax.set_ylim(0, ymax * 1.15)
    ax.set_xlabel(f"order of shaft speed (1 = {shaft:.2f} Hz, {rpm:g} rpm)")
    ax.set_ylabel("squared envelope spectrum")
    ax.set_title(
        f"Envelope spectrum, band {ses.band[0]:g}-{ses.band[1]:g} Hz; dashed: fault lines and harmonics, "
        "dotted: shaft orders and BPFI ± 1X sidebands",
        fontsize=9,
    )
    ax.legend(fontsize=7, loc="upper right", ncol=4)


def _matches_text(ax, matches: list[LineMatch], shaft: list[LineMatch], header: list[str]) -> None:
    ax.axis("off")
    lines = header + ["", "Strongest envelope lines (dB over local median):"]
    lines += [
        f"  {m.label():8s} {m.found_hz:8.2f} Hz  order {m.order:6.3f}  {m.strength_db:5.1f} dB" for m in matches[:6]
    ]
    if shaft:
        lines.append(f"  shaft 1X {shaft[0].found_hz:8.2f} Hz  {shaft[0].strength_db:5.1f} dB")
    ax.text(0, 1, "\n".join(lines), va="top", ha="left", family="monospace", fontsize=8)


def _verdict(ax, verdict: dict[str, Any] | None) -> None:
    if verdict is None:
        ax.axis("off")
        ax.text(0.5, 0.5, "no model given (--model RUN_OR_CKPT)", ha="center", va="center", fontsize=9, color="0.4")
        return
    probs = np.asarray(verdict["probabilities"])
    y = np.arange(len(probs))
    ax.barh(y, probs, color=["tab:red" if c == verdict["predicted"] else "0.6" for c in verdict["classes"]])
    ax.set_yticks(y, verdict["classes"], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("mean probability over windows", fontsize=8)
    ax.set_title(
        f"Model: {verdict['predicted']} ({verdict['vote_share']:.0%} of {verdict['windows']} windows)", fontsize=9
    )


def inspect_page(
    path: Path,
    *,
    title: str,
    x: np.ndarray,
    rate: float,
    rpm: float,
    stats: dict[str, float],
    kurtogram: Kurtogram | None,
    ses: EnvelopeSpectrum,
    orders: dict[str, float],
    harmonics: int,
    matches: list[LineMatch],
    shaft: list[LineMatch],
    header: list[str],
    verdict: dict[str, Any] | None = None,
) -> Path:
    """Draw the page and save it atomically as PNG."""
    fig = plt.figure(figsize=(14, 15))
    grid = fig.add_gridspec(4, 2, height_ratios=[1, 1, 1.3, 1.1], hspace=0.4, wspace=0.2)
    _waveform(fig.add_subplot(grid[0, 0]), x, rate, stats)
    _spectrum(fig.add_subplot(grid[0, 1]), x, rate, ses.band)
    _spectrogram(fig.add_subplot(grid[1, 0]), x, rate)
    _kurtogram(fig.add_subplot(grid[1, 1]), kurtogram, ses.band, rate)
    _envelope(fig.add_subplot(grid[2, :]), ses, rpm, orders, harmonics, matches)
    _matches_text(fig.add_subplot(grid[3, 0]), matches, shaft, header)
    _verdict(fig.add_subplot(grid[3, 1]), verdict)
    fig.suptitle(title, fontsize=12)
    fig.subplots_adjust(top=0.95, bottom=0.03, left=0.07, right=0.97)
    with atomic_path(Path(path)) as tmp:
        fig.savefig(tmp, dpi=80, format="png")
    plt.close(fig)
    return Path(path)
