"""Tracking: link object centroids frame to frame and measure speed and path length."""

import numpy as np


def link_tracks(points_per_frame, max_step=20.0):
    """Greedy nearest-neighbour linking. Returns a list of tracks, each a list of (frame, y, x)."""
    from scipy.optimize import linear_sum_assignment
    from scipy.spatial.distance import cdist

    tracks, open_ends = [], []
    for frame, points in enumerate(points_per_frame):
        points = np.asarray(points, dtype=float).reshape(-1, 2)
        matched = set()
        if open_ends and len(points):
            last = np.array([tracks[i][-1][1:] for i in open_ends])
            cost = cdist(last, points)
            rows, cols = linear_sum_assignment(cost)
            still_open = []
            for r, c in zip(rows, cols, strict=False):
                if cost[r, c] <= max_step:
                    tracks[open_ends[r]].append((frame, *points[c]))
                    matched.add(c)
                    still_open.append(open_ends[r])
            open_ends = still_open
        for c in range(len(points)):
            if c not in matched:
                tracks.append([(frame, *points[c])])
                open_ends.append(len(tracks) - 1)
    return tracks


def track_table(tracks, pixel_size=None, time_step=None):
    """Per track: frames, path length and mean speed (px and px/frame, or um and um/s when known)."""
    import pandas as pd

    rows = []
    for i, track in enumerate(tracks, start=1):
        xy = np.array([p[1:] for p in track])
        steps = np.linalg.norm(np.diff(xy, axis=0), axis=1) if len(xy) > 1 else np.zeros(0)
        row = {"track": i, "frames": len(track), "path_length_px": float(steps.sum()),
               "speed_px_per_frame": float(steps.mean()) if len(steps) else float("nan")}
        if pixel_size:
            row["path_length_um"] = row["path_length_px"] * pixel_size
            if time_step:
                row["speed_um_per_s"] = row["speed_px_per_frame"] * pixel_size / time_step
        rows.append(row)
    return pd.DataFrame(rows)
