"""Outputs: the result lines (human-readable plus one machine-readable line) and figures."""

import numpy as np

RESULT_PREFIX = "SCOPEBOT_RESULT "
RESULT_FILE = "scopebot_result.json"


def report(summary, table=None, table_path="results.csv", result_path=RESULT_FILE):
    """Print each summary number with its unit, save and print the table, then one JSON line.

    ``summary`` maps a name to (value, unit). The JSON line (prefix SCOPEBOT_RESULT) holds the
    summary; the table's columns go to ``result_path`` too, so that the assistant can check every
    promised quantity and column however long the table is.
    """
    import json

    for name, (value, unit) in summary.items():
        shown = f"{value:.4g}" if isinstance(value, float) else str(value)
        print(f"{name}: {shown} {unit}".rstrip())
    columns = {}
    if table is not None and len(table.columns):
        table.to_csv(table_path, index=False)
        print(f"table ({len(table)} rows) saved to {table_path}")
        print(table.head(20).to_string(index=False))
        columns = {c: [None if isinstance(v, float) and v != v else v for v in table[c].tolist()]
                   for c in table.columns}
    summary_json = {k: {"value": v, "unit": u} for k, (v, u) in summary.items()}
    with open(result_path, "w", encoding="utf-8") as fh:
        json.dump({"summary": summary_json, "columns": columns}, fh, default=float)
    print(RESULT_PREFIX + json.dumps({"summary": summary_json, "columns_file": result_path if columns else None},
                                     default=float))


def overlay_figure(image, labels, title):
    """The image with the object outlines drawn on top."""
    import matplotlib.pyplot as plt
    from skimage.segmentation import find_boundaries

    shown = image if image.ndim == 2 else image.max(axis=0)
    edges = find_boundaries(labels if labels.ndim == 2 else labels.max(axis=0))
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.imshow(shown, cmap="gray")
    ax.imshow(np.ma.masked_where(~edges, edges), cmap="autumn", alpha=0.9)
    ax.set_title(title)
    ax.axis("off")
    return fig


def histogram_figure(values, label, bins=30):
    """A histogram of ``values`` (pixel intensities or a measured column)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.hist(np.asarray(values, dtype=float).ravel(), bins=bins, color="steelblue")
    ax.set_xlabel(label)
    ax.set_ylabel("count")
    return fig
