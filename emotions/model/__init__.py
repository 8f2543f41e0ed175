"""The network and its training: architectures (plug-ins), layers the saved model carries,
augmented batches, arithmetic, the training loop, and the model folder it writes."""
