"""The typed analysis plan: what to load, how to preprocess and segment, what to measure and report.

A plan is built from a request and the image's metadata (by :mod:`scopebot.code.planner` or a
strong model through structured output), compiled to a script from tested blocks
(:mod:`scopebot.code.compile`) and, after the run, checked against :meth:`AnalysisPlan.promised`
(:mod:`scopebot.code.verify`). Channels are 0-based inside the plan and 1-based in text for users.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

MeasureKind = Literal["count", "size", "intensity", "shape", "skeleton_length", "nn_distance",
                      "object_distance", "colocalisation", "positivity", "tracking", "coverage",
                      "objects_inside"]
IntensityStat = Literal["mean", "median", "max", "min", "sum"]
#: The column prefix of each per-object intensity statistic ("sum" is the integrated intensity).
STAT_COLUMN = {"mean": "mean_intensity", "median": "median_intensity", "max": "max_intensity",
               "min": "min_intensity", "sum": "integrated_intensity"}
#: Summary statistics of a per-object column besides its mean ("the total area", "the median distance").
ColumnStat = Literal["sum", "median", "max", "min"]
#: The summary-name prefix of each column statistic: ``total_area``, ``median_nn_distance``, ``max_volume``.
SUMMARY_PREFIX = {"sum": "total", "median": "median", "max": "max", "min": "min"}
#: Measurements whose per-object column can be summarised by a :data:`ColumnStat` (tracking: the path length).
SUMMARISED_KINDS = ("size", "skeleton_length", "nn_distance", "object_distance", "tracking")


class ImageMeta(BaseModel):
    """What is known about the image: from its tags, or stated in the request (``stated``)."""

    axes: str = Field(default="YX", description="tifffile axes of the file, e.g. 'ZCYX'.")
    channels: int = 1
    z: int = 1
    t: int = 1
    pixel_size_um: float | None = Field(default=None, gt=0, description="Pixel size in y/x (um).")
    z_step_um: float | None = Field(default=None, gt=0, description="Distance between z planes (um).")
    time_step_s: float | None = Field(default=None, gt=0, description="Time between frames (s).")
    channel_names: list[str] = Field(default_factory=list, description="Channel (stain) names from OME-XML.")
    stated: list[str] = Field(default_factory=list, description="Fields taken from the request text.")


class Inputs(BaseModel):
    channel: int = Field(default=0, ge=0, description="Channel to segment (0-based).")
    z: Literal["3d", "max", "mean", "sum", "range"] = Field(default="max", description="3-D, a projection, "
                                                                                         "or a z-range.")
    z_start: int | None = Field(default=None, ge=0)
    z_stop: int | None = Field(default=None, ge=0)
    time: int | Literal["all"] = Field(default=0, description="Frame index or 'all' (tracking).")


class Preprocessing(BaseModel):
    background: bool = Field(default=False, description="Subtract an uneven background.")
    background_radius: float = Field(default=25.0, gt=0)
    correct_measured: bool = Field(default=True, description="With a background correction: intensities are "
                                                             "measured on the corrected channel too.")
    denoise: bool = Field(default=False, description="Median filter.")
    denoise_size: int = Field(default=3, ge=1, le=15, description="Median filter width in px.")
    smooth_sigma: float | None = Field(default=1.0, ge=0, description="Gaussian sigma in px (None: off).")


class Segmentation(BaseModel):
    method: Literal["otsu", "li", "triangle", "yen", "mean", "manual"] = "otsu"
    threshold: float | None = Field(default=None, description="The value for method 'manual'.")
    split_touching: bool = Field(default=False, description="Seeds + watershed to split touching objects.")
    min_size_px: int = Field(default=10, ge=0, description="Smallest object kept (px or voxels).")
    max_size_px: int | None = Field(default=None, ge=1, description="Largest object kept.")
    exclude_border: bool = Field(default=False, description="Drop objects touching the image border.")
    fill_holes: bool = True


class Measurement(BaseModel):
    kind: MeasureKind
    channel: int | None = Field(default=None, ge=0, description="Second channel: intensity source, "
                                                                  "marker, partner objects or colocalised "
                                                                  "channel (0-based).")
    threshold: float | None = Field(default=None, description="Positivity threshold (default: Otsu).")
    stats: list[IntensityStat] = Field(default_factory=lambda: ["mean"],
                                       description="Per-object intensity statistics (kind 'intensity').")
    summaries: list[ColumnStat] = Field(default_factory=list,
                                        description="Summary statistics of the measured column besides its mean "
                                                    "(size, skeleton length, distances, tracking path length).")


class Outputs(BaseModel):
    table: bool = True
    figure: Literal["none", "overlay", "histogram"] = "overlay"
    histogram_of: str = Field(default="intensity", description="'intensity' (pixels) or a table column.")
    pixel_values: bool = Field(default=False, description="The request names the image's pixel values "
                                                           "('pixel intensities', 'grey values'): a histogram "
                                                           "is of the pixels, not of objects.")
    per_frame: bool = Field(default=False, description="Results for every frame of a time-lapse (counts).")
    time_unit: Literal["s", "min"] = Field(default="s", description="Time unit of speeds (um/s or um/min).")


class Promise(BaseModel):
    """A quantity the plan promises: a summary number or a table column, with its unit."""

    name: str
    unit: str
    where: Literal["summary", "column", "figure"] = "summary"


class AnalysisPlan(BaseModel):
    """A complete, validated analysis plan."""

    version: int = 1
    meta: ImageMeta = Field(default_factory=ImageMeta)
    inputs: Inputs = Field(default_factory=Inputs)
    preprocessing: Preprocessing = Field(default_factory=Preprocessing)
    segmentation: Segmentation | None = Field(default_factory=Segmentation)
    measurements: list[Measurement] = Field(default_factory=list)
    outputs: Outputs = Field(default_factory=Outputs)
    units: Literal["px", "physical", "auto"] = Field(default="auto", description="Physical units when "
                                                                                 "the calibration is known.")
    understood: list[str] = Field(default_factory=list, description="Request phrases and their plan field.")
    not_understood: list[str] = Field(default_factory=list, description="Request words not in the vocabulary.")
    missing: list[str] = Field(default_factory=list, description="Inputs the plan needs but nobody gave.")
    not_used: list[str] = Field(default_factory=list, description="Request words not placed, in sentences the "
                                                                  "plan does not depend on (shown, not used).")

    # --- derived ---------------------------------------------------------------------------------
    @property
    def is_3d(self) -> bool:
        return self.inputs.z == "3d"

    def kinds(self) -> set[str]:
        return {m.kind for m in self.measurements}

    def physical(self) -> bool:
        """Whether lengths can be reported in um (pixel size known and, for 3-D, the z step)."""
        if self.units == "px" or self.meta.pixel_size_um is None:
            return False
        return not self.is_3d or self.meta.z_step_um is not None

    def speed_unit(self) -> str:
        """'um/s', 'um/min' (as asked) when calibrated in space and time, else 'px/frame'."""
        if (self.physical() or self.units == "physical") and self.meta.time_step_s:
            return f"um/{self.outputs.time_unit}"
        return "px/frame"

    def promised(self) -> list[Promise]:
        """Every quantity the compiled script must print (summary) or tabulate (column), with units."""
        out: list[Promise] = []
        phys = self.physical() or self.units == "physical"
        size = ("volume", "voxels", "um^3") if self.is_3d else ("area", "px", "um^2")
        for m in self.measurements:
            c = f"c{(m.channel if m.channel is not None else self.inputs.channel) + 1}"
            if m.kind == "count":
                out.append(Promise(name="count", unit="objects"))
            elif m.kind == "size":
                unit = size[2] if phys else size[1]
                col = f"{size[0]}_{'um3' if self.is_3d else 'um2'}" if phys else f"{size[0]}_{size[1]}"
                out += [Promise(name=col, unit=unit, where="column"),
                        Promise(name=f"mean_{size[0]}", unit=unit)]
                out += [Promise(name=f"{SUMMARY_PREFIX[st]}_{size[0]}", unit=unit) for st in m.summaries]
            elif m.kind == "intensity":
                for stat in m.stats:
                    out += [Promise(name=f"{STAT_COLUMN[stat]}_{c}", unit="", where="column"),
                            Promise(name=f"{STAT_COLUMN[stat]}_{c}", unit="")]
            elif m.kind == "shape":
                out += [Promise(name=n, unit="", where="column") for n in ("eccentricity", "solidity",
                                                                             "circularity", "aspect_ratio")]
                unit = "um" if phys and not self.is_3d else "px"
                out += [Promise(name=f"{n}_{unit}", unit=unit, where="column")
                        for n in ("perimeter", "major_axis", "minor_axis", "equivalent_diameter")]
                out += [Promise(name=p.name, unit=p.unit) for p in out[-8:]]  # the mean of each ("average diameter")
            elif m.kind == "skeleton_length":
                unit = "um" if phys else "px"
                out += [Promise(name=f"skeleton_length_{unit}", unit=unit, where="column"),
                        Promise(name="total_skeleton_length", unit=unit),
                        Promise(name="mean_skeleton_length", unit=unit)]
                out += [Promise(name=f"{SUMMARY_PREFIX[st]}_skeleton_length", unit=unit) for st in m.summaries]
            elif m.kind in ("nn_distance", "object_distance"):
                unit = "um" if phys else "px"
                base = "nn_distance" if m.kind == "nn_distance" else f"distance_to_{c}"
                out += [Promise(name=f"{base}_{unit}", unit=unit, where="column"),
                        Promise(name=f"mean_{base}", unit=unit)]
                out += [Promise(name=f"{SUMMARY_PREFIX[st]}_{base}", unit=unit) for st in m.summaries]
            elif m.kind == "objects_inside":  # objects of another channel inside each object ("spots per nucleus")
                out += [Promise(name=f"objects_inside_{c}", unit="objects", where="column"),
                        Promise(name=f"mean_objects_inside_{c}", unit="objects"),
                        Promise(name=f"total_objects_inside_{c}", unit="objects")]
            elif m.kind == "coverage":  # the share of the image the objects cover (2-D)
                out += [Promise(name="covered_percent", unit="%"),
                        Promise(name="covered_area", unit="um^2" if phys else "px")]
            elif m.kind == "colocalisation":
                out += [Promise(name=n, unit="") for n in ("pearson_r", "manders_m1", "manders_m2")]
            elif m.kind == "positivity":
                out += [Promise(name="positive_count", unit="objects"), Promise(name="positive_percent", unit="%"),
                        Promise(name="negative_count", unit="objects"), Promise(name="negative_percent", unit="%")]
            elif m.kind == "tracking":
                speed = self.speed_unit()
                out += [Promise(name="tracks", unit="tracks"), Promise(name="mean_speed", unit=speed),
                        Promise(name="mean_path_length", unit="um" if phys else "px"),
                        Promise(name="mean_step_length", unit="um" if phys else "px")]  # per frame
                out += [Promise(name=f"{SUMMARY_PREFIX[st]}_path_length", unit="um" if phys else "px")
                        for st in m.summaries]
        if self.outputs.per_frame:
            out = [Promise(name="count", unit="objects", where="column"),
                   Promise(name="mean_count_per_frame", unit="objects")]
        if self.outputs.figure == "histogram":
            out.append(Promise(name="histogram", unit="", where="figure"))
        seen: set[tuple[str, str]] = set()
        return [p for p in out if (p.name, p.where) not in seen and not seen.add((p.name, p.where))]

    def describe(self) -> str:
        """The plan as a short checklist for people."""
        i, p, s = self.inputs, self.preprocessing, self.segmentation
        z = {"3d": "3-D", "max": "max projection", "mean": "mean projection", "sum": "sum projection",
             "range": f"planes {i.z_start}-{i.z_stop}"}[i.z]
        lines = [f"- input: channel {i.channel + 1}, {z}, " + ("all frames" if i.time == "all"
                                                               else f"frame {int(i.time) + 1}")]
        steps = [name for flag, name in ((p.background, "background correction"), (p.denoise, "median denoise"),
                                         (p.smooth_sigma, f"gaussian smoothing (sigma {p.smooth_sigma})"))
                 if flag]
        lines.append("- preprocessing: " + (", ".join(steps) or "none")
                     + (" (intensities measured after the background correction)" if p.background
                        and p.correct_measured and "intensity" in self.kinds() else ""))
        if s is not None:
            thr = f"manual threshold {s.threshold:g}" if s.method == "manual" else f"{s.method} threshold"
            extra = [x for flag, x in ((s.split_touching, "split touching objects (watershed)"),
                                       (s.exclude_border, "drop objects touching the border")) if flag]
            size = f"min size {s.min_size_px} px" + (f", max size {s.max_size_px} px" if s.max_size_px else "")
            lines.append(f"- segmentation ({'3-D' if self.is_3d else '2-D'}): " + ", ".join([thr, size, *extra]))
        lines.append("- measurements: " + (", ".join(
            m.kind + (f" ({'/'.join(m.stats)})" if m.kind == "intensity" and m.stats != ["mean"] else "")
            + (f" ({', '.join(SUMMARY_PREFIX[st] for st in m.summaries)} besides the mean)" if m.summaries else "")
            + (f" (channel {m.channel + 1})" if m.channel is not None else "") for m in self.measurements)
            or "none") + (", in every frame" if self.outputs.per_frame else ""))
        units = "um" if self.physical() else "px"
        lines.append(f"- units: {units}" + (f" (pixel {self.meta.pixel_size_um:g} um" if self.meta.pixel_size_um
                                            else "") + (f", z step {self.meta.z_step_um:g} um"
                                                        if self.meta.z_step_um and self.is_3d else "")
                     + (f", {self.meta.time_step_s:g} s/frame" if self.meta.time_step_s else "")
                     + (")" if self.meta.pixel_size_um else ""))
        lines.append("- promised: " + ", ".join(dict.fromkeys(  # a column and its summary can share a name
            f"{q.name} ({q.unit})" if q.unit else q.name for q in self.promised())))
        if self.not_used:
            lines.append("- not used: " + ", ".join(self.not_used))
        return "\n".join(lines)
