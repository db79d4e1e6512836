"""Inputs: pick a channel and time point, restrict or project the z axis."""

import numpy as np


def pick_channel(data, channel, time=0):
    """The ZYX stack of one channel (0-based) at one time point from a TCZYX array."""
    if channel >= data.shape[1]:
        raise ValueError(f"the image has {data.shape[1]} channel(s); channel {channel + 1} does not exist")
    return np.asarray(data[time, channel], dtype=np.float64)


def z_range(stack, start, stop):
    """Planes start..stop (0-based, inclusive) of a ZYX stack."""
    return stack[start:stop + 1]


def project(stack, how="max"):
    """Project a ZYX stack to YX: 'max', 'mean' or 'sum'."""
    return {"max": stack.max, "mean": stack.mean, "sum": stack.sum}[how](axis=0)
