"""Fitting a network and building the saved model from it: architectures (plug-ins), augmented
batches, arithmetic, the training loop, the layers the saved model carries, and its export."""
