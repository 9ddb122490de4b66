#!/usr/bin/env python3
"""An external trainer for edgetrain's `command` strategy, in plain Python (no PyTorch needed to try it).

It speaks the protocol: one JSON object per stdout line; anything else is log.
  {"event":"heartbeat","epoch":3,"epochs":10,"step":120,"loss":0.41}
  {"event":"checkpoint","path":"ckpt/3.json","metrics":{"loss":0.41}}
  {"event":"artifact","path":"model.onnx","metrics":{"accuracy":0.91}}

edgetrain sets EDGETRAIN_RUN_DIR (this worker's folder, also the working directory), EDGETRAIN_WORKER_ID,
EDGETRAIN_WORKERS, EDGETRAIN_JOB, EDGETRAIN_KEY, EDGETRAIN_DATA_DIR, EDGETRAIN_DATA (the job's data
section as JSON), EDGETRAIN_PREVIOUS_MODEL and EDGETRAIN_PARAM_<NAME> for each of the job's `params`.
It stops the trainer with SIGTERM (then SIGKILL), pauses it with SIGSTOP and resumes it with SIGCONT.

A PyTorch trainer does the same around its loop and ends with
  torch.onnx.export(model, example, "model.onnx", input_names=["features"], output_names=["probabilities"])

This one fits a logistic regression by gradient descent on EDGETRAIN_PARAM_DATA (a CSV with a `label`
column, numeric features) and writes it as ONNX with the `onnx` package (Debian: python3-onnx).
"""
import csv, json, math, os, random, signal, sys, time

def emit(**message):
    print(json.dumps(message), flush=True)

def param(name, default):
    return os.environ.get(f"EDGETRAIN_PARAM_{name.upper()}", default)

stopping = False
def on_term(signum, frame):
    global stopping
    stopping = True
signal.signal(signal.SIGTERM, on_term)

epochs = int(param("epochs", 5))
pause_s = float(param("seconds_per_epoch", 0.05))
data_file = param("data", "")
worker = int(os.environ.get("EDGETRAIN_WORKER_ID", "0"))
random.seed(int(param("seed", 0)) + worker)

rows, labels, names = [], [], []
if data_file:
    with open(data_file) as f:
        reader = csv.DictReader(f)
        names = [n for n in reader.fieldnames if n != "label"]
        for record in reader:
            try:
                rows.append([float(record[n]) for n in names])
                labels.append(record["label"])
            except ValueError:
                continue
else:  # a toy problem: is x0 + x1 > 0?
    names = ["x0", "x1"]
    for _ in range(400):
        x = [random.gauss(0, 1), random.gauss(0, 1)]
        rows.append(x)
        labels.append("yes" if x[0] + x[1] > 0 else "no")
classes = sorted(set(labels))
if len(classes) != 2:
    print(f"this example handles two classes, found {classes}", file=sys.stderr)
    sys.exit(2)
y = [classes.index(l) for l in labels]
n, f = len(rows), len(names)
mean = [sum(r[j] for r in rows) / n for j in range(f)]
std = [math.sqrt(sum((r[j] - mean[j]) ** 2 for r in rows) / n) or 1.0 for j in range(f)]
xs = [[(r[j] - mean[j]) / std[j] for j in range(f)] for r in rows]
w, b = [0.0] * f, 0.0
print(f"worker {worker}: {n} rows, {f} features, classes {classes}")

os.makedirs("ckpt", exist_ok=True)
for epoch in range(1, epochs + 1):
    if stopping:
        print("stopping on SIGTERM", flush=True)
        sys.exit(143)
    loss, gw, gb = 0.0, [0.0] * f, 0.0
    for x, t in zip(xs, y):
        z = b + sum(wi * xi for wi, xi in zip(w, x))
        p = 1 / (1 + math.exp(-max(min(z, 30), -30)))
        loss -= math.log(max(p if t else 1 - p, 1e-12))
        for j in range(f):
            gw[j] += (p - t) * x[j]
        gb += p - t
    w = [wi - 0.5 * g / n for wi, g in zip(w, gw)]
    b -= 0.5 * gb / n
    emit(event="heartbeat", epoch=epoch, epochs=epochs, step=epoch * n, loss=round(loss / n, 5))
    path = f"ckpt/{epoch}.json"
    with open(path, "w") as out:
        json.dump({"w": w, "b": b}, out)
    emit(event="checkpoint", path=path, metrics={"loss": round(loss / n, 5)})
    time.sleep(pause_s)

right = sum(1 for x, t in zip(xs, y) if (b + sum(wi * xi for wi, xi in zip(w, x)) > 0) == bool(t))
accuracy = right / n

from onnx import TensorProto, helper, save  # imported late: the protocol above needs no packages
# Two logits [0, z] so that Softmax gives the two class probabilities; standardisation inside the graph.
weights = [[0.0, wj / sj] for wj, sj in zip(w, std)]
bias = [0.0, b - sum(wj * mj / sj for wj, mj, sj in zip(w, mean, std))]
graph = helper.make_graph(
    [
        helper.make_node("Gemm", ["features", "W", "B"], ["logits"]),
        helper.make_node("Softmax", ["logits"], ["probabilities"], axis=1),
        helper.make_node("ArgMax", ["probabilities"], ["label"], axis=1, keepdims=0),
    ],
    "example-logistic",
    [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["N", f])],
    [helper.make_tensor_value_info("label", TensorProto.INT64, ["N"]), helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", 2])],
    [helper.make_tensor("W", TensorProto.FLOAT, [f, 2], [v for row in weights for v in row]), helper.make_tensor("B", TensorProto.FLOAT, [2], bias)],
)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 15)], producer_name="train_example.py")
model.ir_version = 8
model.metadata_props.add(key="edgetrain", value=json.dumps({"task": "classification", "feature_names": names, "classes": classes, "strategy": "command"}))
save(model, "model.partial.onnx")
os.replace("model.partial.onnx", "model.onnx")  # never a half-written model
emit(event="artifact", path="model.onnx", metrics={"accuracy": round(accuracy, 5)})
