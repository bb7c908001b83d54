"""Scenes: ad backgrounds as layers with parameters (format; ``decode`` squashes a network's raw
output into it), their geometry, two rasterizers (torch, differentiable: ``raster_torch``; skia,
serving: ``raster_skia``), an SVG export, and fitting a scene to an image (``fit``).

Nothing here imports from above models/scene: the generator, the corpus and the service build on it."""
