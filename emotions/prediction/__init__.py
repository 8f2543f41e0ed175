"""Classifying new images and videos with a saved model, and writing what it found: tables, JSON,
CSV, annotated copies, heat maps and emotion timelines."""
