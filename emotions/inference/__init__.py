"""The trained model in use, through its ONNX export and without TensorFlow: classify faces, score
labelled sets, and draw the pictures the reports show."""
