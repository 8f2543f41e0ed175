"""The saved model: its folder (ONNX export, Keras file, meta.json), the onnxruntime session that
runs it, its temperature and the calibration maths, and occlusion maps of its answers. Training
writes it; evaluation and prediction read it; it imports none of them, nor TensorFlow."""
