"""Facial-emotion classification: the logic behind the DVC stages in ``stages/``."""

import os

# TensorFlow's C++ start-up chatter (oneDNN, CPU features) buries the pipeline's own output;
# set TF_CPP_MIN_LOG_LEVEL=0 to see it again.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# oneDNN reorders floating-point sums, so results may differ from machine to machine; reproducible
# metrics matter more here. TF_ENABLE_ONEDNN_OPTS=1 turns it back on.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
