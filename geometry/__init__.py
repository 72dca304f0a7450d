"""Shapes, surfaces and their intersections with straight flights."""
