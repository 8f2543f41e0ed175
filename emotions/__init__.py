"""Facial-emotion classification: the logic behind the DVC stages in ``stages/``."""

import os

# TensorFlow's C++ start-up chatter (oneDNN, CPU features) buries the pipeline's own output;
# set TF_CPP_MIN_LOG_LEVEL=0 to see it again.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
