"""Scoring a saved model on labelled faces: metrics, calibration, and the reports and figures that
show them."""
