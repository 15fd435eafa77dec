"""Synthetic scenes for the dataset converters: a few non-overlapping
shapes (circle, triangle, square) of random colour, position, scale and
rotation on a noisy (optionally textured) background, with each shape's
class and polygon. ``tools/dataset_converters/synthetic_coco.py`` and
``synthetic_seg.py`` write them as COCO instances and as segmentation maps.
"""
import math

import cv2
import numpy as np

CLASSES = ('circle', 'triangle', 'square')


def shape_polygon(name, center, radius, angle):
    """``(P, 2)`` float vertices of a shape inscribed in a circle."""
    sides = {'circle': 32, 'triangle': 3, 'square': 4}[name]
    theta = angle + np.arange(sides) * 2 * math.pi / sides
    return np.stack([center[0] + radius * np.cos(theta),
                     center[1] + radius * np.sin(theta)], axis=1)


def stripes(rng, width, height, amplitude=40):
    """A ``(H, W, 3)`` texture: two sine gratings of random period (6-24 px),
    orientation, phase and per-channel amplitude."""
    ys, xs = np.mgrid[:height, :width]
    texture = np.zeros((height, width, 3))
    for _ in range(2):
        angle = rng.uniform(0, math.pi)
        frequency = 2 * math.pi / rng.uniform(6, 24)
        phase = rng.uniform(0, 2 * math.pi)
        wave = np.sin(frequency * (xs * math.cos(angle) + ys * math.sin(angle))
                      + phase)
        texture += wave[..., None] * rng.uniform(0, amplitude / 2, size=3)
    return texture


def make_scene(rng, width, height, max_shapes, radius_range, texture=False):
    """One image ``(H, W, 3)`` BGR uint8 and its annotations (category index,
    polygon). ``texture`` adds :func:`stripes` to the noisy background."""
    background = rng.integers(0, 256, size=3)
    image = background + rng.normal(0, 12, size=(height, width, 3))
    if texture:
        image += stripes(rng, width, height)
    image = np.clip(image, 0, 255).astype(np.uint8)
    placed = []  # (cx, cy, r) of drawn shapes, to keep them apart
    objects = []
    for _ in range(rng.integers(1, max_shapes + 1)):
        for _attempt in range(20):
            radius = rng.uniform(*radius_range)
            cx = rng.uniform(radius, width - radius)
            cy = rng.uniform(radius, height - radius)
            if all(math.hypot(cx - x, cy - y) > radius + r + 2
                   for x, y, r in placed):
                break
        else:
            continue  # no free room left for this shape
        label = int(rng.integers(len(CLASSES)))
        polygon = shape_polygon(CLASSES[label], (cx, cy), radius,
                                rng.uniform(0, 2 * math.pi))
        # A colour far enough from the background to be seen.
        colour = (background + rng.integers(80, 176, size=3)) % 256
        cv2.fillPoly(image, [np.round(polygon).astype(np.int32)],
                     [int(c) for c in colour], lineType=cv2.LINE_AA)
        placed.append((cx, cy, radius))
        objects.append((label, polygon))
    return image, objects


__all__ = ['CLASSES', 'shape_polygon', 'stripes', 'make_scene']
