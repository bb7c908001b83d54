"""Scenes: ad backgrounds as layers with parameters (format), their geometry, two rasterizers
(torch, differentiable: ``raster_torch``; skia, serving: ``raster_skia``) and an SVG export."""
