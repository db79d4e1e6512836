"""Compile an :class:`AnalysisPlan` to a readable stand-alone script made of tested blocks.

The script starts with the plan as its docstring, then the source of exactly the block functions
it uses (copied from :mod:`scopebot.code.blocks`), then one short section per plan step. It
ends by printing every promised quantity with its unit through ``report`` (one machine-readable
``SCOPEBOT_RESULT`` line that :mod:`scopebot.code.verify` checks).
"""

from __future__ import annotations

import ast
from functools import lru_cache
from pathlib import Path

from scopebot.code.plan import STAT_COLUMN, SUMMARY_PREFIX, AnalysisPlan, Measurement

BLOCKS_DIR = Path(__file__).with_name("blocks")
#: The summaries a projected plan's script adds: objects with parts at different depths, objects spread over
#: different x/y in different planes (see ``blocks/segment.py: projection_check``; read by :mod:`scopebot.code.verify`).
PROJECTION_CHECKS = ("projection_stacked_objects", "projection_spread_objects")
#: The summary holding the threshold a positivity plan used (Otsu's or the request's), shown with the answer.
MARKER_THRESHOLD = "marker_threshold"
#: The summaries of a positivity cutoff the script chose (``blocks/measure.py: marker_cutoff``): its rule, whether
#: the split is clear (0: not an answer, read by :mod:`scopebot.code.verify`) and the background level.
MARKER_CHECKS = ("marker_rule", "marker_split_clear", "marker_background")


def projection_asked(plan: AnalysisPlan) -> bool:
    """Whether the request itself asked for a projection ("on the max projection", "mean-project"), read from the
    planner's notes; a projection the planner chose for a stack by default is not asked for."""
    return any("inputs.z=" in note and "inputs.z=range" not in note for note in plan.understood)


def stack_intensities(plan: AnalysisPlan) -> bool:
    """Whether intensities inside objects found on a projection are measured in the stack's planes (3-D: each
    object's voxels), not on the projection: always, unless the request asked for the projection. A max
    projection keeps each pixel's brightest plane, noise included, so its means run high (tryout r18: +9..30 %)."""
    return (plan.segmentation is not None and plan.meta.z > 1 and plan.inputs.z != "3d"
            and "intensity" in plan.kinds() and not projection_asked(plan))


def _projected(plan: AnalysisPlan) -> bool:
    return plan.segmentation is not None and plan.meta.z > 1 and plan.inputs.z != "3d"


@lru_cache(maxsize=1)
def block_sources() -> dict[str, str]:
    """Every top-level function (and constant) of the block modules, by name, as source text."""
    out: dict[str, str] = {}
    for path in sorted(BLOCKS_DIR.glob("*.py")):
        source = path.read_text(encoding="utf-8")
        lines = source.splitlines()
        for node in ast.parse(source).body:
            if isinstance(node, ast.FunctionDef):
                out[node.name] = "\n".join(lines[node.lineno - 1:node.end_lineno])
            elif isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
                out[node.targets[0].id] = "\n".join(lines[node.lineno - 1:node.end_lineno])
    return out


class _Script:
    def __init__(self) -> None:
        self.uses: list[str] = []
        self.lines: list[str] = []

    def use(self, *names: str) -> None:
        for n in names:
            if n not in self.uses:
                self.uses.append(n)

    def add(self, *lines: str) -> None:
        self.lines.extend(lines)


def _size_cols(plan: AnalysisPlan) -> tuple[str, str]:
    if plan.is_3d:
        return ("volume_um3", "um^3") if plan.physical() else ("volume_voxels", "voxels")
    return ("area_um2", "um^2") if plan.physical() else ("area_px", "px")


def compile_plan(plan: AnalysisPlan) -> str:
    """The Python script for ``plan``."""
    s = _Script()
    inp, seg, meta = plan.inputs, plan.segmentation, plan.meta
    kinds = plan.kinds()
    needs_labels = seg is not None and bool(kinds - {"colocalisation"}) and not plan.outputs.per_frame
    phys = plan.physical()
    s.use("load_image", "read_metadata", "to_tczyx", "pick_channel", "report")
    s.add("IMAGE_PATH = globals().get('IMAGE_PATH', 'image.tif')",
          f"data, meta = load_image(IMAGE_PATH, axes={meta.axes!r})  # the request says what the file's unnamed "
          "axis is" if "axes" in meta.stated else
          "data, meta = load_image(IMAGE_PATH)  # TCZYX pixels and the file's calibration")
    for name in ("pixel_size_um", "z_step_um", "time_step_s"):
        if name in meta.stated:
            s.add(f"meta[{name!r}] = {getattr(meta, name)!r}  # stated in the request")
    s.add("pixel_size, z_step, time_step = meta['pixel_size_um'], meta['z_step_um'], meta['time_step_s']")
    if plan.is_3d:
        s.add("spacing = (z_step, pixel_size, pixel_size) if pixel_size and z_step else None"
              if phys else "spacing = None  # lengths in voxels")
    else:
        s.add("spacing = (pixel_size, pixel_size) if pixel_size else None" if phys
              else "spacing = None  # lengths in pixels")
    s.add("", "", "def prepare(channel, time=0):", '    """One channel at one time point, as the plan asks for z."""',
          "    stack = pick_channel(data, channel, time)")
    if inp.z == "3d":
        s.add("    return stack  # kept in 3-D")
    elif inp.z == "range":
        s.use("z_range", "project")
        s.add(f"    return project(z_range(stack, {inp.z_start}, {inp.z_stop}), 'max')")
    else:
        s.use("project")
        s.add(f"    return project(stack, {inp.z!r})")
    if seg is not None:
        s.add("", "", "def segment_image(image):", '    """Preprocess, threshold, split, label and filter."""')
        _preprocess(s, plan)
        s.use("threshold_mask", "fill_holes", "label_objects", "filter_objects")
        s.add(f"    mask = threshold_mask(image, {seg.method!r}"
              + (f", value={seg.threshold:g})" if seg.method == "manual" else ")"))
        if seg.fill_holes:
            s.add("    mask = fill_holes(mask)")
        if seg.split_touching:
            s.use("split_touching")
            s.add("    labels = split_touching(mask, spacing=spacing)")
        else:
            s.add("    labels = label_objects(mask)")
        s.add(f"    return filter_objects(labels, min_size={seg.min_size_px}, max_size={seg.max_size_px}, "
              f"exclude_border={seg.exclude_border})")
    s.add("", "", "summary = {}", "table = None")
    frame = 0 if inp.time == "all" else int(inp.time)
    if needs_labels and "tracking" not in kinds:
        s.use("object_table")
        s.add(f"image = prepare({inp.channel}, time={frame})", "labels = segment_image(image)",
              "table = object_table(labels, spacing)")
        _planes(s, plan, frame)
        _measure(s, plan, frame)
        _projection_check(s, plan, frame)
    if plan.outputs.per_frame and seg is not None:
        s.add("import pandas as pd", "counts = []", "for t in range(data.shape[0]):",
              f"    frame_labels = segment_image(prepare({inp.channel}, time=t))",
              "    counts.append(int(len(np.unique(frame_labels)) - 1))",
              "table = pd.DataFrame({'frame': np.arange(1, len(counts) + 1), 'count': counts})",
              "summary['frames'] = (len(counts), 'frames')",
              "summary['mean_count_per_frame'] = (float(np.mean(counts)), 'objects')",
              f"image = prepare({inp.channel}, time=0)", "labels = segment_image(image)")
    if "tracking" in kinds:
        s.use("object_table", "link_tracks", "track_table")
        s.add("points = []", "for t in range(data.shape[0]):",
              f"    frame_labels = segment_image(prepare({inp.channel}, time=t))",
              "    cells = object_table(frame_labels)",
              "    points.append(cells[['y_px', 'x_px']].to_numpy() if len(cells) else [])",
              "tracks = link_tracks(points, max_step=20.0)",
              "table = track_table(tracks, pixel_size" + (", time_step)" if phys else ", None)"),
              "moving = table[table['frames'] > 1]",
              "summary['tracks'] = (len(moving), 'tracks')")
        if plan.speed_unit() == "um/min":
            s.add("summary['mean_speed'] = (60.0 * float(moving['speed_um_per_s'].mean()), 'um/min')")
        elif plan.speed_unit() == "um/s":
            s.add("summary['mean_speed'] = (float(moving['speed_um_per_s'].mean()), 'um/s')")
        else:
            s.add("summary['mean_speed'] = (float(moving['speed_px_per_frame'].mean()), 'px/frame')")
        s.add("summary['mean_path_length'] = " + ("(float(moving['path_length_um'].mean()), 'um')" if phys
                                                   else "(float(moving['path_length_px'].mean()), 'px')"),
              "summary['mean_step_length'] = (float(moving['speed_px_per_frame'].mean())"
              + (" * pixel_size, 'um')  # per frame" if phys else ", 'px')  # per frame"))
        m = next(m for m in plan.measurements if m.kind == "tracking")
        _summaries(s, m, "moving['path_length_um']" if phys else "moving['path_length_px']", "path_length",
                   "um" if phys else "px")
        s.add(f"image = prepare({inp.channel}, time=0)", "labels = segment_image(image)")
    if "colocalisation" in kinds:
        m = next(m for m in plan.measurements if m.kind == "colocalisation")
        s.use("colocalisation")
        s.add(f"coloc = colocalisation(prepare({inp.channel}, time={frame}), prepare({m.channel}, time={frame}))",
              "for name, value in coloc.items():", "    summary[name] = (value, '')")
        if not needs_labels:
            s.add(f"image = prepare({inp.channel}, time={frame})")
    if seg is None and "colocalisation" not in kinds:
        s.add(f"image = prepare({inp.channel}, time={frame})")
    _figure(s, plan, needs_labels or "tracking" in kinds)
    s.add("report(summary, table if plan_table else None)")
    table_flag = "True" if plan.outputs.table and (needs_labels or "tracking" in kinds or plan.outputs.per_frame) \
        else "False"
    body = "\n".join(s.lines).replace("table if plan_table else None", "table" if table_flag == "True" else "None")
    header = '"""Analysis compiled by scopebot from this plan:\n\n' + plan.describe().replace('"""', "'''") + '\n"""\n'
    sources = block_sources()
    blocks = "\n\n\n".join(sources[name] for name in _ordered(s.uses, sources))
    return f"{header}\nimport numpy as np\n\n{blocks}\n\n\n# --- the plan, step by step ---\n{body}\n"


def _ordered(names: list[str], sources: dict[str, str]) -> list[str]:
    """Used block names plus what they call, constants first, in file order."""
    order = list(sources)
    wanted = set(names)
    changed = True
    while changed:
        changed = False
        for name in list(wanted):
            for other in sources:
                if other not in wanted and other != name and f"{other}(" in sources[name] or (
                        other not in wanted and other.isupper() and other in sources[name]):
                    wanted.add(other)
                    changed = True
    return [n for n in order if n in wanted]


def _preprocess(s: _Script, plan: AnalysisPlan) -> None:
    """The preprocessing lines of a function whose argument is ``image`` (as the plan asks)."""
    pre = plan.preprocessing
    if pre.background:
        s.use("subtract_background")
        s.add(f"    image = subtract_background(image, radius={pre.background_radius:g})")
    if pre.denoise:
        s.use("denoise")
        s.add(f"    image = denoise(image, size={pre.denoise_size})")
    if pre.smooth_sigma:
        s.use("smooth")
        s.add(f"    image = smooth(image, sigma={pre.smooth_sigma:g}, spacing=spacing)")


def _planes(s: _Script, plan: AnalysisPlan, frame: int) -> None:
    """For a projected stack: its planes of the objects' channel, each preprocessed as the projection was (for
    the projection check and for intensities measured in 3-D)."""
    if not _projected(plan):
        return
    inp = plan.inputs
    s.add("", "", "def prepare_plane(image):", '    """One plane, preprocessed as the projection was."""')
    _preprocess(s, plan)
    s.add("    return image", "", f"planes = pick_channel(data, {inp.channel}, time={frame}){_z_slice(plan)}",
          "prepared_planes = np.stack([prepare_plane(plane) for plane in planes])")


def _z_slice(plan: AnalysisPlan) -> str:
    inp = plan.inputs
    return f"[{inp.z_start}:{inp.z_stop + 1}]" if inp.z == "range" else ""


def _projection_check(s: _Script, plan: AnalysisPlan, frame: int) -> None:
    """After a 2-D segmentation of a projected stack: count the objects the projection merged (parts at
    different depths, or one thing at different x/y in different planes); :mod:`verify` reads the two
    summaries (:data:`PROJECTION_CHECKS`)."""
    seg = plan.segmentation
    if not _projected(plan) or seg is None:
        return
    s.use("projection_check")
    s.add("stacked, spread = projection_check(prepared_planes, labels, "
          f"{seg.method!r}, " + (f"value={seg.threshold:g}, " if seg.method == "manual" else "")
          + f"min_size={seg.min_size_px})  # did the projection merge objects?",
          f"summary[{PROJECTION_CHECKS[0]!r}] = (stacked, 'objects')",
          f"summary[{PROJECTION_CHECKS[1]!r}] = (spread, 'objects')")


def _summaries(s: _Script, m: Measurement, column: str, base: str, unit: str) -> None:
    """Summary lines for the column statistics the plan asks for besides the mean ("the total area")."""
    if m.summaries:
        s.use("column_summary")
    for stat in m.summaries:
        s.add(f"summary['{SUMMARY_PREFIX[stat]}_{base}'] = (column_summary({column}, {stat!r}), {unit!r})")


def _measure(s: _Script, plan: AnalysisPlan, frame: int) -> None:
    phys = plan.physical()
    unit_len = "um" if phys else "px"
    col, unit = _size_cols(plan)
    dims = "['z_px', 'y_px', 'x_px']" if plan.is_3d else "['y_px', 'x_px']"
    scale = "np.asarray(spacing)" if phys else "1.0"
    for m in plan.measurements:
        c = f"c{(m.channel if m.channel is not None else plan.inputs.channel) + 1}"
        if m.kind == "count":
            s.add("summary['count'] = (len(table), 'objects')")
        elif m.kind == "size":
            name = "mean_volume" if plan.is_3d else "mean_area"
            s.add(f"summary[{name!r}] = (float(table[{col!r}].mean()) if len(table) else 0.0, {unit!r})")
            _summaries(s, m, f"table[{col!r}]", name.removeprefix("mean_"), unit)
        elif m.kind == "intensity":
            s.use("object_intensity")
            if stack_intensities(plan):  # in each object's voxels of the stack, not on the projection
                seg = plan.segmentation
                if "object_voxels" not in s.uses:
                    s.use("object_voxels")
                    s.add(f"voxels = object_voxels(labels, prepared_planes, {seg.method!r}"  # type: ignore[union-attr]
                          + (f", value={seg.threshold:g})" if seg.method == "manual" else ")")  # type: ignore[union-attr]
                          + "  # each object's voxels: its outline, in the planes where it is above the level")
                s.add(f"signal = pick_channel(data, {m.channel}, time={frame}){_z_slice(plan)}  # every plane")
            else:
                s.add(f"signal = prepare({m.channel}, time={frame})")
            if plan.preprocessing.background and plan.preprocessing.correct_measured:
                s.use("subtract_background")
                s.add(f"signal = subtract_background(signal, radius={plan.preprocessing.background_radius:g})"
                      "  # the request corrects the background: intensities of the corrected channel")
            where = "voxels" if stack_intensities(plan) else "labels"
            for stat in m.stats:
                icol = f"{STAT_COLUMN[stat]}_{c}"  # (own name: `col` stays the size column)
                s.add(f"table[{icol!r}] = object_intensity({where}, signal, {stat!r}"
                      + (", count=len(table))" if where == "voxels" else ")"),
                      f"summary[{icol!r}] = (float(table[{icol!r}].mean()) if len(table) else float('nan'), '')")
        elif m.kind == "shape":
            s.use("shape_table")
            s.add("import pandas as pd", "shape = shape_table(labels if labels.ndim == 2 else labels.max(axis=0)"
                  + (", pixel_size)" if phys and not plan.is_3d else ")"),
                  "table = pd.concat([table, shape.reset_index(drop=True)], axis=1)",
                  "for name in shape.columns:  # the mean of each, under the column's name ('the average diameter')",
                  "    unit = name.rsplit('_', 1)[1] if name.endswith(('_um', '_px')) else ''",
                  "    summary[name] = (float(table[name].mean()) if len(table) else float('nan'), unit)")
        elif m.kind == "skeleton_length":
            s.use("skeleton_lengths")
            s.add(f"table['skeleton_length_{unit_len}'] = skeleton_lengths("
                  "labels if labels.ndim == 2 else labels.max(axis=0)"
                  + (", pixel_size)" if phys else ")"),
                  f"summary['total_skeleton_length'] = (float(table['skeleton_length_{unit_len}'].sum()), "
                  f"{unit_len!r})",
                  f"summary['mean_skeleton_length'] = (float(table['skeleton_length_{unit_len}'].mean()) "
                  f"if len(table) else float('nan'), {unit_len!r})")
            _summaries(s, m, f"table['skeleton_length_{unit_len}']", "skeleton_length", unit_len)
        elif m.kind == "nn_distance":
            s.use("nearest_neighbour_distances")
            s.add(f"table['nn_distance_{unit_len}'] = nearest_neighbour_distances(table[{dims}].to_numpy() * {scale})",
                  f"summary['mean_nn_distance'] = (float(table['nn_distance_{unit_len}'].mean()), {unit_len!r})")
            _summaries(s, m, f"table['nn_distance_{unit_len}']", "nn_distance", unit_len)
        elif m.kind == "object_distance":
            s.use("nearest_neighbour_distances")
            s.add(f"partner = object_table(segment_image(prepare({m.channel}, time={frame})), spacing)",
                  f"table['distance_to_{c}_{unit_len}'] = nearest_neighbour_distances("
                  f"table[{dims}].to_numpy() * {scale}, partner[{dims}].to_numpy() * {scale})",
                  f"summary['mean_distance_to_{c}'] = (float(table['distance_to_{c}_{unit_len}'].mean()), "
                  f"{unit_len!r})")
            _summaries(s, m, f"table['distance_to_{c}_{unit_len}']", f"distance_to_{c}", unit_len)
        elif m.kind == "objects_inside":
            s.use("objects_inside")
            s.add(f"inner = segment_image(prepare({m.channel}, time={frame}))  # the objects of channel {m.channel + 1}",
                  f"table['objects_inside_{c}'] = objects_inside(labels, inner)",
                  f"summary['mean_objects_inside_{c}'] = (float(table['objects_inside_{c}'].mean()) if len(table) "
                  "else float('nan'), 'objects')",
                  f"summary['total_objects_inside_{c}'] = (int(table['objects_inside_{c}'].sum()), 'objects')")
        elif m.kind == "coverage":
            s.use("coverage")
            s.add("covered_percent, covered_area = coverage(labels" + (", pixel_size)" if phys else ")"),
                  "summary['covered_percent'] = (covered_percent, '%')",
                  f"summary['covered_area'] = (covered_area, {'um^2' if phys else 'px'!r})")
        elif m.kind == "positivity":
            s.use("positive_objects")
            s.add(f"marker = prepare({m.channel}, time={frame})")
            if m.threshold is None:
                s.use("marker_cutoff")
                s.add("marker_threshold, marker_rule, marker_clear, marker_background = marker_cutoff(labels, marker)"
                      "  # from the objects' means and the background",
                      f"summary[{MARKER_CHECKS[0]!r}] = (marker_rule, '')  # see MARKER_RULES",
                      f"summary[{MARKER_CHECKS[1]!r}] = (int(marker_clear), '')  # 0: no clear split",
                      f"summary[{MARKER_CHECKS[2]!r}] = (marker_background, '')")
            else:
                s.add(f"marker_threshold = {m.threshold:g}  # stated in the request")
            s.add(f"table['positive_{c}'], table['marker_mean_{c}'] = positive_objects(labels, marker, "
                  "marker_threshold)",
                  f"summary['positive_count'] = (int(table['positive_{c}'].sum()), 'objects')",
                  f"summary['positive_percent'] = (100.0 * float(table['positive_{c}'].mean()) "
                  "if len(table) else 0.0, '%')",
                  f"summary['negative_count'] = (int((~table['positive_{c}']).sum()), 'objects')",
                  "summary['negative_percent'] = (100.0 - summary['positive_percent'][0] if len(table) else 0.0, '%')",
                  f"summary[{MARKER_THRESHOLD!r}] = (marker_threshold, '')  # positive: the object's mean is above it")


def _figure(s: _Script, plan: AnalysisPlan, has_labels: bool) -> None:
    if plan.outputs.figure == "histogram":
        s.use("histogram_figure")
        column = plan.outputs.histogram_of
        if column != "intensity" and has_labels:
            s.add(f"histogram_figure(table[{column!r}], {column!r})")
        else:
            s.add("histogram_figure(image, 'pixel intensity')")
    elif plan.outputs.figure == "overlay" and has_labels:
        s.use("overlay_figure")
        s.add("overlay_figure(image, labels, f'{int(labels.max())} objects')")
