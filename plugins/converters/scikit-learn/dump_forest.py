"""Dumps a scikit-learn forest's trees as JSON for edgetrain, which builds the ONNX TreeEnsemble itself.

Usage: dump_forest.py MODEL.pkl|MODEL.joblib OUT.json. Runs with the device's own scikit-learn; speaks
edgetrain's JSON-lines protocol on stdout (heartbeats, then the artifact). A refusal is the last stderr
line, starting with "edgetrain: ", and exit code 3 (a module missing) or 4 (not a forest it converts).
"""
import json
import sys

SUPPORTED = ("RandomForestClassifier", "RandomForestRegressor", "ExtraTreesClassifier", "ExtraTreesRegressor")


def say(event, **fields):
    print(json.dumps({"event": event, **fields}), flush=True)


def refuse(code, message):
    print(f"edgetrain: {message}", file=sys.stderr, flush=True)
    sys.exit(code)


path, out = sys.argv[1], sys.argv[2]
try:
    import numpy as np
    import sklearn
    from sklearn import ensemble
except ImportError as error:
    refuse(3, f"python module {error.name} is missing")

say("heartbeat", step=0, message="loading")
try:
    try:
        import joblib
        model = joblib.load(path)
    except ImportError:
        import pickle
        with open(path, "rb") as handle:
            model = pickle.load(handle)
except ImportError as error:
    refuse(3, f"loading it needs python module {error.name}, which is missing")
except Exception as error:
    said = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    refuse(4, f"is not a pickle that loads ({said})")

kind = type(model).__name__
if not isinstance(model, tuple(getattr(ensemble, name) for name in SUPPORTED)):
    refuse(4, f"holds a {type(model).__module__}.{kind}: the scikit-learn converter takes "
              f"{', '.join(SUPPORTED[:-1])} and {SUPPORTED[-1]}")
if not hasattr(model, "estimators_"):
    refuse(4, f"holds a {kind} that is not fitted")
if getattr(model, "n_outputs_", 1) != 1:
    refuse(4, f"holds a {kind} with {model.n_outputs_} outputs; edgetrain serves forests of one output")

classification = kind.endswith("Classifier")


def class_name(value):
    """How edgetrain names a class: as scikit-learn prints it, but 1 rather than 1.0 for whole floats."""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value.item() if hasattr(value, "item") else value)


trees = []
total = len(model.estimators_)
for index, estimator in enumerate(model.estimators_):
    tree = estimator.tree_
    value = np.asarray(tree.value[:, 0, :], dtype=np.float64)
    if classification:
        # predict_proba of a tree: its leaf's class weights made proportions.
        sums = value.sum(axis=1, keepdims=True)
        sums[sums == 0] = 1
        value = value / sums
    dumped = {
        "children_left": tree.children_left.tolist(),
        "children_right": tree.children_right.tolist(),
        "feature": tree.feature.tolist(),
        "threshold": tree.threshold.tolist(),
        "value": value.ravel().tolist(),
    }
    if hasattr(tree, "missing_go_to_left"):
        dumped["missing_go_to_left"] = np.asarray(tree.missing_go_to_left).astype(int).tolist()
    trees.append(dumped)
    if index % 10 == 9 or index == total - 1:
        say("heartbeat", step=index + 1, epochs=total)

dump = {
    "estimator": kind,
    "sklearn": sklearn.__version__,
    "task": "classification" if classification else "regression",
    "n_features": int(model.n_features_in_),
    "trees": trees,
}
if classification:
    dump["classes"] = [class_name(c) for c in model.classes_]
if hasattr(model, "feature_names_in_"):
    dump["feature_names"] = [str(name) for name in model.feature_names_in_]
with open(out, "w") as handle:
    json.dump(dump, handle)
say("artifact", path=out)
