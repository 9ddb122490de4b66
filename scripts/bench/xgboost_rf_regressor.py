#!/usr/bin/python3
"""XGBoost random-forest peer for regression (Debian python3-xgboost): fit time and RMSE; prints JSON.

  /usr/bin/python3 xgboost_rf_regressor.py TRAIN.csv TEST.csv LABEL

The settings of ../shared/bench/xgboost_rf.py (XGBRF, tree_method hist, 100 trees of depth 8,
subsample 0.632, n_jobs 2), except colsample_bynode 1.0: every feature at every split, as
scikit-learn's RandomForestRegressor and edgetrain's regressor do by default. Columns named
timestamp and label are left out (a text label beside the numeric target); every other column
must be numeric.
"""
import sys, time, json, csv
import numpy as np
import xgboost as xgb

if len(sys.argv) != 4:
    sys.exit(__doc__.strip().splitlines()[2].strip())
target = sys.argv[3]

def xy(path):
    rows = list(csv.reader(open(path)))
    header = rows[0]
    ti = header.index(target)
    keep = [i for i, c in enumerate(header) if c not in (target, "label", "timestamp")]
    X = np.array([[float(r[i]) for i in keep] for r in rows[1:]], dtype=np.float32)
    y = np.array([float(r[ti]) for r in rows[1:]])
    return X, y

Xtr, ytr = xy(sys.argv[1])
Xte, yte = xy(sys.argv[2])
m = xgb.XGBRFRegressor(n_estimators=100, max_depth=8, tree_method="hist", n_jobs=2, subsample=0.632,
                       colsample_bynode=1.0, min_child_weight=1, random_state=0)
t = time.perf_counter(); m.fit(Xtr, ytr); fit = time.perf_counter() - t
rmse = float(np.sqrt(np.mean((m.predict(Xte) - yte) ** 2)))
print(json.dumps({"fit_seconds": fit, "rmse": rmse, "features": Xtr.shape[1]}))
