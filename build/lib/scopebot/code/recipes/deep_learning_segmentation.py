"""Segment nuclei or cells with Cellpose or StarDist, with a clear message when unavailable.

Keywords: cellpose, stardist, deep learning, neural network, pretrained, model, ai, segment, segmentation, instance segmentation
Checks that the package is installed and that its pretrained weights are already on disk (scopebot
never downloads weights at run time); otherwise it explains how to install them and falls back to
classical Otsu segmentation so that the run still produces labels.
"""

import numpy as np

from scopebot.code.recipes._io import load_image  # scopebot:inline


def deep_learning_status():
    """{'cellpose': msg or None, 'stardist': msg or None}: None when usable, else why not."""
    import importlib.util
    import os

    status = {}
    if importlib.util.find_spec("cellpose") is None:
        status["cellpose"] = "Cellpose is not installed (pip install cellpose)."
    else:
        folder = os.environ.get("CELLPOSE_LOCAL_MODELS_PATH", os.path.expanduser("~/.cellpose/models"))
        has = os.path.isdir(folder) and any(os.scandir(folder))
        status["cellpose"] = None if has else (
            f"Cellpose is installed but no pretrained weights were found in {folder}; download them once "
            "on a connected machine (run cellpose once) and copy the folder.")
    if importlib.util.find_spec("stardist") is None:
        status["stardist"] = "StarDist is not installed (pip install stardist tensorflow)."
    else:
        status["stardist"] = None
    return status


def segment_nuclei(image, prefer="cellpose"):
    """(labels, method used, messages). Falls back to Otsu + labelling when no model is usable."""
    from scipy import ndimage as ndi
    from skimage import filters, measure

    status = deep_learning_status()
    img = np.asarray(image, dtype=np.float64)
    if prefer == "cellpose" and status.get("cellpose") is None:
        from cellpose import models

        labels, *_ = models.CellposeModel(gpu=False).eval(img)
        return labels, "cellpose", []
    if status.get("stardist") is None:
        from csbdeep.utils import normalize
        from stardist.models import StarDist2D

        labels, _ = StarDist2D.from_pretrained("2D_versatile_fluo").predict_instances(normalize(img))
        return labels, "stardist", []
    smooth = ndi.gaussian_filter(img, 1.0)
    labels = measure.label(smooth > filters.threshold_otsu(smooth))
    messages = [m for m in status.values() if m]
    return labels, "otsu (fallback)", messages


if __name__ == "__main__":
    IMAGE_PATH = globals().get("IMAGE_PATH", "image.tif")
    image, _ = load_image(IMAGE_PATH)
    if image.ndim > 2:
        image = image.max(axis=0)
    labels, method, messages = segment_nuclei(image)
    for message in messages:
        print("Note:", message)
    print(f"Segmented {int(labels.max())} objects with {method}")
