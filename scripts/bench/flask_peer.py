#!/usr/bin/env python3
"""The serving peer for scripts/bench/serving.ts: Flask + scikit-learn answering the same requests.

Trains a RandomForestClassifier with the same settings on the same player sessions that edgetrain's
demo job uses, then serves POST /predict ({"inputs": [[...]]} -> labels and probabilities).
Needs Debian's python3-flask and python3-sklearn; the product itself never needs Python.

  python3 flask_peer.py --data DIR/player_7 --port 8571
"""
import argparse, csv, glob, os, re
import numpy as np
from flask import Flask, jsonify, request
from sklearn.ensemble import RandomForestClassifier

ap = argparse.ArgumentParser()
ap.add_argument("--data", required=True)
ap.add_argument("--port", type=int, default=8571)
ap.add_argument("--trees", type=int, default=40)
ap.add_argument("--depth", type=int, default=8)
a = ap.parse_args()

files = sorted(glob.glob(os.path.join(a.data, "TR*_*.csv")), key=lambda f: int(re.match(r"TR(\d+)_", os.path.basename(f)).group(1)))
window = files[-3:-1]  # the latest 3 sessions with the newest held out, as the demo job does
X, y = [], []
for f in window:
    with open(f) as fh:
        rows = csv.reader(fh)
        header = next(rows)
        for row in rows:
            X.append([float(v) for v in row[1:-1]])
            y.append(row[-1])
model = RandomForestClassifier(n_estimators=a.trees, max_depth=a.depth, random_state=7, n_jobs=1).fit(np.array(X), y)
classes = list(model.classes_)

app = Flask(__name__)

@app.post("/predict")
def predict():
    inputs = np.array(request.get_json()["inputs"], dtype=float)
    proba = model.predict_proba(inputs)
    return jsonify({"outputs": [{"label": classes[int(p.argmax())], "probabilities": dict(zip(classes, map(float, p)))} for p in proba]})

print("ready", flush=True)
app.run(host="127.0.0.1", port=a.port, threaded=True)
