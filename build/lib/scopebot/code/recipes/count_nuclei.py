"""Count and measure nuclei or cells: threshold, label, and a table of per-object measurements.

Keywords: count, counting, how many, number of, number, nuclei, nucleus, cells, objects, spots, label, labelling, labeling, measure, measurement, area, intensity, regionprops, table, csv, segment, segmentation
Smooths, thresholds with Otsu, removes small objects, labels connected components and measures
area (pixels and um^2 when the pixel size is known), mean intensity and centroid into a CSV table.
"""

import numpy as np

from scopebot.code.recipes._io import load_image  # scopebot:inline


def segment(image, min_size=20, smooth_sigma=1.0):
    """A label image of the bright objects (Otsu on a smoothed image, small objects removed)."""
    from scipy import ndimage as ndi
    from skimage import filters, measure, morphology

    img = ndi.gaussian_filter(np.asarray(image, dtype=np.float64), smooth_sigma)
    mask = img > filters.threshold_otsu(img)
    mask = morphology.remove_small_objects(mask, max_size=min_size)
    mask = ndi.binary_fill_holes(mask)
    return measure.label(mask)


def measure_objects(labels, image, pixel_size=None):
    """A pandas table with one row per labelled object."""
    import pandas as pd
    from skimage import measure

    props = measure.regionprops_table(labels, intensity_image=np.asarray(image),
                                      properties=("label", "area", "intensity_mean", "centroid",
                                                  "eccentricity"))
    table = pd.DataFrame(props).rename(columns={"centroid-0": "y", "centroid-1": "x",
                                              "intensity_mean": "mean_intensity"})
    if pixel_size:
        table["area_um2"] = table["area"] * pixel_size ** 2
    return table


if __name__ == "__main__":
    import matplotlib.pyplot as plt

    IMAGE_PATH = globals().get("IMAGE_PATH", "image.tif")
    image, pixel_size = load_image(IMAGE_PATH)
    if image.ndim > 2:
        image = image.max(axis=0)
    labels = segment(image)
    table = measure_objects(labels, image, pixel_size)
    table.to_csv("measurements.csv", index=False)
    print(f"Found {len(table)} objects")
    print(f"mean area {table['area'].mean():.1f} px" + (
        f" = {table['area_um2'].mean():.2f} um^2" if pixel_size else ""))
    print(table.head(10).to_string(index=False))
    plt.imshow(labels, cmap="nipy_spectral")
    plt.title(f"{len(table)} labelled objects")
