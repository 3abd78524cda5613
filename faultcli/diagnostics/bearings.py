"""Rolling-element bearing geometry and its characteristic fault frequencies.

Kinematic formulas as in Randall & Antoni (2011), "Rolling element bearing diagnostics: a tutorial",
MSSP 25(2), eq. 1-4, for a stationary outer race and shaft speed f_r:

    FTF  = f_r / 2 · (1 - d/D · cos φ)              cage (fundamental train)
    BPFO = n · f_r / 2 · (1 - d/D · cos φ)          ball pass, outer race
    BPFI = n · f_r / 2 · (1 + d/D · cos φ)          ball pass, inner race
    BSF  = D / (2d) · f_r · (1 - (d/D · cos φ)²)    ball spin

n balls of diameter d on pitch diameter D, contact angle φ. A spall on a ball strikes both races once per
spin, so ball faults often show at 2 × BSF (the "rolling element" figure of the CWRU documentation).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from faultcli.errors import ConfigError

LINES = ("BPFO", "BPFI", "BSF", "FTF")  # characteristic fault frequencies, in this order everywhere
GEOMETRY_HINT = "--geometry balls=9,ball=0.3126,pitch=1.537,angle=0 (diameters in any one unit)"


@dataclass(frozen=True)
class Bearing:
    """One bearing's geometry; diameters in any one unit (only their ratio matters)."""

    name: str
    balls: int
    ball_diameter: float
    pitch_diameter: float
    contact_angle: float = 0.0  # degrees
    description: str = ""

    def __post_init__(self) -> None:
        if self.balls < 3:
            raise ConfigError(f"bearing {self.name}: balls = {self.balls}; a bearing has 3 or more rolling elements")
        if not 0 < self.ball_diameter < self.pitch_diameter:
            raise ConfigError(
                f"bearing {self.name}: ball diameter {self.ball_diameter} must be positive and smaller than "
                f"the pitch diameter {self.pitch_diameter}; check the geometry"
            )
        if not 0 <= self.contact_angle < 90:
            raise ConfigError(f"bearing {self.name}: contact angle {self.contact_angle}° must lie in [0, 90)")

    def orders(self) -> dict[str, float]:
        """BPFO, BPFI, BSF and FTF in orders of shaft speed (multiples of the shaft frequency)."""
        ratio = self.ball_diameter / self.pitch_diameter * math.cos(math.radians(self.contact_angle))
        return {
            "BPFO": self.balls / 2 * (1 - ratio),
            "BPFI": self.balls / 2 * (1 + ratio),
            "BSF": self.pitch_diameter / (2 * self.ball_diameter) * (1 - ratio**2),
            "FTF": (1 - ratio) / 2,
        }

    def frequencies(self, rpm: float) -> dict[str, float]:
        """BPFO, BPFI, BSF and FTF in Hz at ``rpm`` shaft revolutions per minute."""
        if not (math.isfinite(rpm) and rpm > 0):
            raise ConfigError(f"shaft speed {rpm} rpm is not a positive number; pass the speed with --rpm")
        return {name: order * rpm / 60.0 for name, order in self.orders().items()}


# CWRU Bearing Data Center, "Bearing information": deep groove ball bearings, sizes in inches.
BEARINGS: dict[str, Bearing] = {
    "6205": Bearing("6205-2RS JEM SKF", 9, 0.3126, 1.537, 0.0, "deep groove; CWRU drive end"),
    "6203": Bearing("6203-2RS JEM SKF", 8, 0.2656, 1.122, 0.0, "deep groove; CWRU fan end"),
}
# the bearing a CWRU channel names, used when none is given (and said so in the report)
CWRU_CHANNEL_BEARING = {"DE": "6205", "FE": "6203"}


def known_bearings() -> str:
    """The table as one line: ``6203 (6203-2RS JEM SKF, ...), 6205 (...)``."""
    return ", ".join(f"{key} ({b.name}, {b.description})" for key, b in sorted(BEARINGS.items()))


def bearing_by_name(name: str) -> Bearing:
    """The table's bearing for a designation: ``6205``, ``6205-2RS`` or ``6205-2RS JEM SKF`` (any case)."""
    key = re.split(r"[\s-]", name.strip(), maxsplit=1)[0].upper()
    if key in BEARINGS and BEARINGS[key].name.upper().startswith(name.strip().upper()):
        return BEARINGS[key]
    raise ConfigError(
        f"unknown bearing {name!r}; known: {known_bearings()}; for another bearing give its geometry, "
        f"e.g. {GEOMETRY_HINT}"
    )


_GEOMETRY_KEYS = {"balls": "balls", "ball": "ball_diameter", "pitch": "pitch_diameter", "angle": "contact_angle"}


def parse_geometry(text: str, name: str = "custom") -> Bearing:
    """A bearing from ``balls=9,ball=0.3126,pitch=1.537[,angle=0]``."""
    values: dict[str, float] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        key, _, value = item.partition("=")
        field = _GEOMETRY_KEYS.get(key.strip().lower())
        try:
            number = float(value)
        except ValueError:
            number = float("nan")
        if field is None or not math.isfinite(number):
            raise ConfigError(
                f"bearing geometry item {item!r} is not KEY=NUMBER with KEY in balls, ball, pitch, angle; "
                f"write e.g. {GEOMETRY_HINT}"
            )
        values[field] = number
    missing = [key for key, field in _GEOMETRY_KEYS.items() if field not in values and key != "angle"]
    if missing:
        raise ConfigError(f"bearing geometry {text!r} lacks {', '.join(missing)}; write e.g. {GEOMETRY_HINT}")
    balls = values.pop("balls")
    if not balls.is_integer():
        raise ConfigError(f"bearing geometry: balls = {balls} must be a whole number")
    return Bearing(name, int(balls), **values, description="given geometry")


def resolve_bearing(name: str | None, geometry: str | None, channel: str | None) -> tuple[Bearing, str]:
    """The bearing to diagnose and how it was chosen: given geometry, a named bearing, or the CWRU bearing
    of ``channel`` (an assumption the caller states)."""
    if geometry and name:
        raise ConfigError("give either a bearing designation or its geometry, not both")
    if geometry:
        return parse_geometry(geometry), "given geometry"
    if name:
        return bearing_by_name(name), "given"
    key = CWRU_CHANNEL_BEARING.get((channel or "").upper())
    if key is None:
        raise ConfigError(
            f"no bearing given for channel {channel!r}; pass a designation ({known_bearings()}) or {GEOMETRY_HINT}"
        )
    return BEARINGS[key], f"assumed: the CWRU {channel.upper()} bearing (pass --bearing or --geometry otherwise)"
