"""Outputs: the result lines (human-readable plus one machine-readable line) and figures."""

import numpy as np

RESULT_PREFIX = "SCOPEBOT_RESULT "


def report(summary, table=None, table_path="results.csv"):
    """Print each summary number with its unit, save and print the table, then one JSON line.

    ``summary`` maps a name to (value, unit). The JSON line (prefix SCOPEBOT_RESULT) lets the
    assistant check that every promised quantity is present with its unit.
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
    payload = {"summary": {k: {"value": v, "unit": u} for k, (v, u) in summary.items()}, "columns": columns}
    print(RESULT_PREFIX + json.dumps(payload, default=float))


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
