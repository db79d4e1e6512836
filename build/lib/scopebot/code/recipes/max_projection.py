"""Maximum-intensity projection of a z-stack (or any axis) and save it as TIFF and PNG.

Keywords: max projection, maximum intensity projection, mip, z-stack, stack, project, collapse, z, 3d to 2d
Projects along the first axis by default; 2D images are returned unchanged.
"""

import numpy as np

from scopebot.code.recipes._io import load_image  # scopebot:inline


def max_project(stack, axis=0):
    """Maximum along ``axis``; a 2D image is returned as is."""
    stack = np.asarray(stack)
    if stack.ndim <= 2:
        return stack
    return stack.max(axis=axis)


if __name__ == "__main__":
    import matplotlib.pyplot as plt
    import tifffile

    IMAGE_PATH = globals().get("IMAGE_PATH", "image.tif")
    stack, pixel_size = load_image(IMAGE_PATH)
    mip = max_project(stack)
    tifffile.imwrite("max_projection.tif", mip)
    print(f"input shape {stack.shape} -> projection shape {mip.shape}, max value {mip.max()}")
    plt.imshow(mip, cmap="gray")
    plt.title("Maximum-intensity projection")
    plt.axis("off")
