"""Facial-emotion classification: the logic behind the DVC stages in ``stages/``."""

import os

# TensorFlow's C++ start-up chatter (oneDNN, CPU features) buries the pipeline's own output;
# set TF_CPP_MIN_LOG_LEVEL=0 to see it again.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# oneDNN reorders floating-point sums by CPU kind; the train stage chooses it from train.onednn
# (emotions.precision), everything else that may load TensorFlow keeps its portable default kernels.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
