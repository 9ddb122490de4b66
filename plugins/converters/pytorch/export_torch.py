"""Exports a PyTorch model to ONNX for edgetrain with the device's own torch.

Usage: export_torch.py MODEL.pt OUT.onnx [SHAPE]. MODEL is a TorchScript file (torch.jit.save) or a pickled
module (torch.save(model)); SHAPE (1,3,224,224) is one input's shape, the first dimension the batch, which
stays dynamic in the export. The input is named `input`, the outputs `output` (or output_0, output_1, …).
Writes OUT and OUT.json (what was exported); speaks edgetrain's JSON-lines protocol on stdout. A refusal is
the last stderr line, starting with "edgetrain: ", and exit code 3 (a module missing) or 4 (cannot export).
"""
import inspect
import json
import sys


def say(event, **fields):
    print(json.dumps({"event": event, **fields}), flush=True)


def refuse(code, message):
    print(f"edgetrain: {message}", file=sys.stderr, flush=True)
    sys.exit(code)


def described(error):
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


path, out = sys.argv[1], sys.argv[2]
shape = [int(size) for size in sys.argv[3].split(",")] if len(sys.argv) > 3 and sys.argv[3] else None
try:
    import torch
except ImportError as error:
    refuse(3, f"python module {error.name} is missing")

SAVE_AS = "save the model itself: torch.jit.save(torch.jit.script(model), path) or torch.save(model, path)"
say("heartbeat", step=0, message="loading")
try:
    model = torch.jit.load(path, map_location="cpu")
    kind = "TorchScript"
except Exception:
    try:
        try:
            model = torch.load(path, map_location="cpu", weights_only=False)
        except TypeError:
            model = torch.load(path, map_location="cpu")
        kind = "pickled module"
    except ModuleNotFoundError as error:
        refuse(3, f"loading it needs python module {error.name}, which is missing (keep the module that defines "
                  f"the model next to the file)")
    except AttributeError as error:
        refuse(4, f"its model's class cannot be found ({error}): save it as TorchScript "
                  f"(torch.jit.save(torch.jit.script(model), path)), or keep the class in a module next to the file")
    except Exception as error:
        refuse(4, f"is neither TorchScript nor a saved PyTorch module ({described(error)})")

if isinstance(model, dict):
    refuse(4, f"holds a state_dict (weights without the network): {SAVE_AS}")
if not isinstance(model, torch.nn.Module):
    refuse(4, f"holds a {type(model).__name__}, not a torch.nn.Module: {SAVE_AS}")
model.eval()

guessed = ""
if shape is None:
    first = next(iter(model.parameters()), None)
    if first is None or first.dim() != 2:
        refuse(4, "does not say the shape of its input: give it with --example-input SHAPE (such as 1,3,224,224)")
    # A first layer that is Linear takes rows of its in_features.
    shape = [2, int(first.shape[1])]
    guessed = " (guessed from its first layer's weight)"

torch.manual_seed(0)
example = torch.randn(shape)
say("heartbeat", step=1, epochs=3, message="running")
try:
    with torch.no_grad():
        answer = model(example)
except Exception as error:
    refuse(4, f"does not run on an input of shape {shape}{guessed}: {described(error)}; give --example-input SHAPE")
answers = list(answer) if isinstance(answer, (tuple, list)) else [answer]
if not answers or not all(isinstance(one, torch.Tensor) for one in answers):
    refuse(4, "answers something other than a tensor or a tuple of tensors")
outputs = ["output"] if len(answers) == 1 and not isinstance(answer, (tuple, list)) else \
    [f"output_{i}" for i in range(len(answers))]
dynamic = {"input": {0: "batch"}}
dynamic.update({name: {0: "batch"} for name, one in zip(outputs, answers) if one.dim() > 0})
options = {"input_names": ["input"], "output_names": outputs, "dynamic_axes": dynamic, "opset_version": 17}
if "dynamo" in inspect.signature(torch.onnx.export).parameters:
    # The dynamo exporter needs onnxscript and ignores dynamic_axes; the TorchScript one needs neither.
    options["dynamo"] = False
say("heartbeat", step=2, epochs=3, message="exporting")
try:
    torch.onnx.export(model, (example,), out, **options)
except Exception as error:
    refuse(4, f"could not be exported by torch.onnx.export ({described(error).splitlines()[0]})")
with open(out + ".json", "w") as handle:
    module = getattr(model, "original_name", type(model).__name__)
    json.dump({"kind": kind, "module": module, "shape": shape, "guessed": bool(guessed), "outputs": outputs,
               "torch": torch.__version__}, handle)
say("artifact", path=out)
