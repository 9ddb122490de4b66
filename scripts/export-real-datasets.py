#!/usr/bin/env python3
"""Exports small real tabular datasets that ship with scikit-learn into test fixtures, once.

  /usr/bin/python3 scripts/export-real-datasets.py test/fixtures/real

Each dataset becomes NAME-train.csv and NAME-test.csv (a fixed 75/25 split, seed 0) with a header
and a `label` column. Needs Debian's python3-sklearn. The product itself never runs this.
"""
import csv, os, sys
from sklearn import datasets
from sklearn.model_selection import train_test_split

SETS = {
    "iris": (datasets.load_iris, "classification"),
    "wine": (datasets.load_wine, "classification"),
    "breast-cancer": (datasets.load_breast_cancer, "classification"),
    "diabetes": (datasets.load_diabetes, "regression"),
}

def write(path, names, X, y, task):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow([n.replace(" ", "_") for n in names] + ["label"])
        for row, label in zip(X, y):
            w.writerow([f"{v:.6g}" for v in row] + [str(label) if task == "classification" else f"{label:.6g}"])

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
for name, (load, task) in SETS.items():
    d = load()
    Xtr, Xte, ytr, yte = train_test_split(d.data, d.target, test_size=0.25, random_state=0)
    names = list(d.feature_names)
    write(os.path.join(out, f"{name}-train.csv"), names, Xtr, ytr, task)
    write(os.path.join(out, f"{name}-test.csv"), names, Xte, yte, task)
    print(name, task, len(ytr), len(yte), len(names))
