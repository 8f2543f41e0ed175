"""Several saved models of the same classes and inputs as one ONNX file: their probabilities
averaged, then calibrated by one temperature, so that an ensemble ships, loads and predicts as any
single model does (one file, onnxruntime alone)."""

from __future__ import annotations

import dataclasses
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, compose, helper, numpy_helper
from onnx.utils import Extractor

from emotions.data.encoding import Encoding
from emotions.data.store import Prepared
from emotions.errors import UserError
from emotions.files import atomic_dir
from emotions.saved import bundle
from emotions.saved.calibration import FLOOR, fit_temperature
from emotions.saved.runtime import TEMPERATURE_KEY, Predictor

OUTPUT = "probabilities"
SUM = "ensemble/sum"  # the node's output whose inputs are the members' probabilities
DOC = re.compile(r"^An ensemble of \d+ models\. ")


def _metadata(model: onnx.ModelProto) -> dict[str, str]:
    return {prop.key: prop.value for prop in model.metadata_props}


def _check_agree(folders: Sequence[Path], metas: Sequence[Encoding]) -> None:
    """The members must take the same faces and answer the same classes: the first that differs
    from the first member is named."""
    if len(folders) < 2:
        raise UserError(f"an ensemble needs two models or more, got {len(folders)}")
    first = metas[0]
    for folder, own in zip(folders[1:], metas[1:], strict=True):
        for field in dataclasses.fields(own):
            mine, theirs = getattr(own, field.name), getattr(first, field.name)
            if mine != theirs:
                raise UserError(
                    f"{folder / bundle.META_FILE}: {field.name} {mine!r} differs from "
                    f"{folders[0] / bundle.META_FILE}'s {theirs!r}: an ensemble's members must "
                    "take the same faces and answer the same classes"
                )


def networks(model: onnx.ModelProto) -> list[onnx.ModelProto]:
    """The networks a saved model averages: an ensemble written here is taken apart, so that one
    joining others weighs as its networks and not as one; any other model is one network. Each
    keeps the metadata, its own calibration (in its graph) and not the ensemble's temperature."""
    sums = [node for node in model.graph.node if list(node.output) == [SUM]]
    if not sums:
        return [model]
    extractor = Extractor(onnx.shape_inference.infer_shapes(model))
    metadata = _metadata(model)
    metadata.pop(TEMPERATURE_KEY, None)
    parts = []
    for output in sums[0].input:
        part = extractor.extract_model([model.graph.input[0].name], [output])
        part.ir_version = model.ir_version
        helper.set_model_props(part, metadata)
        part.doc_string = DOC.sub("", model.doc_string)
        parts.append(part)
    return parts


def averaged(members: Sequence[onnx.ModelProto], temperature: float) -> onnx.ModelProto:
    """One graph: every member reads the same input, their probabilities are averaged, and the
    average is calibrated as a single model's are, ``softmax(log(mean) / temperature)``. The
    members' metadata carries over, with the ensemble's temperature."""
    nodes: list[onnx.NodeProto] = []
    initializers: list[onnx.TensorProto] = []
    outputs = []
    source = members[0].graph.input[0]
    for index, member in enumerate(members):
        prefixed = compose.add_prefix(member, f"member{index}/")
        graph = prefixed.graph
        nodes.append(helper.make_node("Identity", [source.name], [graph.input[0].name]))
        nodes.extend(graph.node)
        initializers.extend(graph.initializer)
        outputs.append(graph.output[0].name)
    constants = {
        "ensemble/share": np.float32(1 / len(members)),
        "ensemble/floor": np.float32(FLOOR),
        "ensemble/inverse_temperature": np.float32(1 / temperature),
    }
    initializers.extend(numpy_helper.from_array(np.array(v), k) for k, v in constants.items())
    nodes += [
        helper.make_node("Sum", outputs, [SUM]),
        helper.make_node("Mul", [SUM, "ensemble/share"], ["ensemble/mean"]),
        helper.make_node("Max", ["ensemble/mean", "ensemble/floor"], ["ensemble/floored"]),
        helper.make_node("Log", ["ensemble/floored"], ["ensemble/log"]),
        helper.make_node("Mul", ["ensemble/log", "ensemble/inverse_temperature"], ["ensemble/z"]),
        helper.make_node("Softmax", ["ensemble/z"], [OUTPUT], axis=-1),
    ]
    classes = members[0].graph.output[0].type.tensor_type.shape.dim[1].dim_value
    graph = helper.make_graph(
        nodes,
        "ensemble",
        [source],
        [helper.make_tensor_value_info(OUTPUT, TensorProto.FLOAT, ["N", classes])],
        initializers,
    )
    model = helper.make_model(graph, opset_imports=members[0].opset_import)
    model.ir_version = members[0].ir_version
    metadata = {**_metadata(members[0]), TEMPERATURE_KEY: f"{temperature:g}"}
    helper.set_model_props(model, metadata)
    model.doc_string = f"An ensemble of {len(members)} models. {members[0].doc_string}"
    onnx.checker.check_model(model)
    return model


def write_ensemble(
    folders: Sequence[Path], prepared: Prepared, rows: np.ndarray, out: Path
) -> dict[str, float]:
    """The members' networks averaged into ``out`` (model.onnx and the first member's meta.json),
    each network weighing the same, the temperature fitted on the prepared faces ``rows``, which no
    member may have trained on (their validation part: the test part stays unseen). Returns the
    accuracy there of each network and of the ensemble."""
    predictors = [Predictor(folder) for folder in folders]  # each named if its files are unusable
    meta = predictors[0].meta
    _check_agree(folders, [predictor.meta for predictor in predictors])
    bundle.check_inputs(folders[0], meta, prepared.encoding)
    named: dict[str, onnx.ModelProto] = {}
    answers = []
    for folder, predictor in zip(folders, predictors, strict=True):
        parts = networks(onnx.load(str(folder / bundle.ONNX_FILE)))
        if len(parts) == 1:  # the member is one network, already loaded
            named[str(folder)] = parts[0]
            answers.append(predictor.stored(prepared.faces, rows))
            continue
        for index, part in enumerate(parts, 1):
            named[f"{folder}, network {index} of {len(parts)}"] = part
            answers.append(_answers(part, meta, prepared, rows))
    labels = prepared.labels[rows]
    mean = np.mean(answers, axis=0)
    fit = fit_temperature(mean, labels)
    temperature = 1.0 if fit.at_limit else fit.temperature  # as a single model's calibration does
    with atomic_dir(out) as tmp:
        onnx.save(averaged(list(named.values()), temperature), str(tmp / bundle.ONNX_FILE))
        bundle.write_meta(meta, tmp)
        Predictor(tmp)  # the ONNX check: meta.json and the graph agree
    accuracy = {
        name: float(np.mean(a.argmax(axis=1) == labels))
        for name, a in zip(named, answers, strict=True)
    }
    accuracy["ensemble"] = float(np.mean(mean.argmax(axis=1) == labels))
    return accuracy


def _answers(
    network: onnx.ModelProto, meta: Encoding, prepared: Prepared, rows: np.ndarray
) -> np.ndarray:
    """One network of an ensemble: its probabilities for the prepared faces ``rows``, run as a saved
    model is."""
    with tempfile.TemporaryDirectory() as tmp:
        onnx.save(network, str(Path(tmp) / bundle.ONNX_FILE))
        bundle.write_meta(meta, Path(tmp))
        return Predictor(Path(tmp)).stored(prepared.faces, rows)
