"""Simple tracking: detect objects in each frame and link them by nearest neighbour.

Keywords: track, tracking, over time, track cells, cell tracking, follow, moving, trajectories, trajectory, time lapse, timelapse, movie, frames, link, linking, migration, displacement, speed, velocity
Detects bright objects per frame (Otsu + labelling), then links each object to the nearest
object in the next frame within a maximum distance (greedy, one-to-one). Outputs a table of
tracks with per-step displacement.
"""

import numpy as np

from scopebot.code.recipes._io import load_image  # scopebot:inline


def detect(frame):
    """Centroids (y, x) of the bright objects in one frame."""
    from scipy import ndimage as ndi
    from skimage import filters, measure

    smooth = ndi.gaussian_filter(np.asarray(frame, dtype=np.float64), 1.0)
    labels = measure.label(smooth > filters.threshold_otsu(smooth))
    return [tuple(p.centroid) for p in measure.regionprops(labels) if p.area >= 5]


def link(detections, max_distance=15.0):
    """Greedy nearest-neighbour linking; returns a list of tracks, each a list of (frame, y, x)."""
    tracks = [[(0, *p)] for p in detections[0]] if detections else []
    for t in range(1, len(detections)):
        open_tracks = [tr for tr in tracks if tr[-1][0] == t - 1]
        pairs = sorted((float(np.hypot(tr[-1][1] - p[0], tr[-1][2] - p[1])), i, j)
                       for i, tr in enumerate(open_tracks) for j, p in enumerate(detections[t]))
        used_tracks, used_points = set(), set()
        for dist, i, j in pairs:
            if dist > max_distance or i in used_tracks or j in used_points:
                continue
            open_tracks[i].append((t, *detections[t][j]))
            used_tracks.add(i)
            used_points.add(j)
        tracks += [[(t, *p)] for j, p in enumerate(detections[t]) if j not in used_points]
    return tracks


def tracks_table(tracks):
    """A pandas table: track id, frame, y, x and the step displacement."""
    import pandas as pd

    rows = []
    for track_id, track in enumerate(tracks, start=1):
        prev = None
        for frame, y, x in track:
            step = float(np.hypot(y - prev[0], x - prev[1])) if prev else 0.0
            rows.append({"track": track_id, "frame": frame, "y": y, "x": x, "step": step})
            prev = (y, x)
    return pd.DataFrame(rows)


if __name__ == "__main__":
    IMAGE_PATH = globals().get("IMAGE_PATH", "image.tif")
    movie, _ = load_image(IMAGE_PATH)
    if movie.ndim == 2:
        movie = movie[np.newaxis]
    tracks = link([detect(frame) for frame in movie])
    table = tracks_table(tracks)
    table.to_csv("tracks.csv", index=False)
    print(f"{len(movie)} frames, {len(tracks)} tracks; mean step {table.loc[table.step > 0, 'step'].mean():.2f} px")
