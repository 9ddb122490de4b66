"""Exports a Keras model to ONNX for edgetrain with the device's own TensorFlow and tf2onnx.

Usage: export_keras.py MODEL.keras|MODEL.h5 OUT.onnx [SHAPE]. The batch dimension stays dynamic; a model of one
input has it named `input`. SHAPE (1,224,224,3) fills in the sizes the model leaves open. Writes OUT and OUT.json
(what was exported); speaks edgetrain's JSON-lines protocol on stdout. A refusal is the last stderr line, starting
with "edgetrain: ", and exit code 3 (a module missing) or 4 (cannot export).
"""
import json
import sys


def say(event, **fields):
    print(json.dumps({"event": event, **fields}), flush=True)


def refuse(code, message):
    print(f"edgetrain: {message}", file=sys.stderr, flush=True)
    sys.exit(code)


def described(error):
    return f"{type(error).__name__}: {error}".splitlines()[0] if str(error) else type(error).__name__


path, out = sys.argv[1], sys.argv[2]
shape = [int(size) for size in sys.argv[3].split(",")] if len(sys.argv) > 3 and sys.argv[3] else None
try:
    import tensorflow as tf
    import tf2onnx
except ImportError as error:
    refuse(3, f"python module {error.name} is missing")

say("heartbeat", step=0, epochs=2, message="loading")
try:
    model = tf.keras.models.load_model(path, compile=False)
except Exception as error:
    refuse(4, f"is not a Keras model that loads ({described(error)})")

inputs = list(model.inputs or [])
if not inputs:
    refuse(4, "has no inputs defined: save a model built with keras.Input, or one that has been called on data")
specs = []
for index, given in enumerate(inputs):
    dims = list(given.shape)[1:]
    if shape is not None and len(inputs) == 1:
        dims = shape[1:]
    if any(size is None for size in dims):
        refuse(4, f"leaves sizes of input {index} open ({[None, *dims]}): give them with --example-input SHAPE")
    name = "input" if len(inputs) == 1 else given.name.split(":")[0]
    specs.append(tf.TensorSpec([None, *dims], given.dtype, name=name))

say("heartbeat", step=1, epochs=2, message="exporting")
try:
    tf2onnx.convert.from_keras(model, input_signature=tuple(specs), opset=13, output_path=out)
except Exception as error:
    refuse(4, f"could not be exported by tf2onnx ({described(error)})")
with open(out + ".json", "w") as handle:
    json.dump({"module": type(model).__name__, "inputs": [[None, *spec.shape[1:]] for spec in specs],
               "tensorflow": tf.__version__, "tf2onnx": tf2onnx.__version__}, handle, default=str)
say("artifact", path=out)
