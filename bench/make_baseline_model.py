#!/usr/bin/python3
"""Re-train the scikit-learn model behind examples/churn/model.onnx and save
it with joblib, for the FastAPI baseline of bench/predict_vs_fastapi.sh.

    /usr/bin/python3 bench/make_baseline_model.py OUT.joblib

The ONNX model is fixture `logreg20_manifest` of
tests/fixtures/make_fixtures.py (fixture_logreg). That function cannot be
imported and called without side effects (it rewrites the fixture files and
examples/churn/), so its training code is replicated here verbatim: same data
(make_classification, random_state=0), same split, same estimator.

The one deliberate difference: the estimator is fitted on a DataFrame with
the manifest's column names, as a "classic" FastAPI app's model would be, so
that `model.predict(pd.DataFrame([features]))` validates names instead of
warning "X has feature names, but LogisticRegression was fitted without
feature names". The script asserts that this gives the same coefficients as
the ndarray fit of make_fixtures.py, and that predict_proba matches the
fixture's expected.json (which is what the ONNX model is checked against)
within its tolerance (1e-5), on the float32 values and on sample.json as sent.
"""

import json
import os
import sys
import warnings

import joblib
import numpy as np
import pandas as pd
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURE = os.path.join(ROOT, "tests", "fixtures", "models", "logreg20_manifest")
EXAMPLE = os.path.join(ROOT, "examples", "churn")
N_CANDIDATES = 40   # = make_fixtures.N_CANDIDATES


def manifest_features(path):
    """Feature names from a mast model.yaml (`- {name: X, type: float}`)."""
    names = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("- {name:"):
                names.append(line.split("name:", 1)[1].split(",", 1)[0].strip())
    return names


def train(features=None):
    # --- verbatim from make_fixtures.fixture_logreg -----------------------
    X, y = make_classification(n_samples=1000 + N_CANDIDATES, n_features=20,
                               n_informative=8, n_redundant=4, random_state=0)
    X_tr, X_te, y_tr, _ = train_test_split(X, y, test_size=N_CANDIDATES,
                                           random_state=0, stratify=y)
    # ----------------------------------------------------------------------
    if features is None:
        return LogisticRegression(max_iter=2000).fit(X_tr, y_tr)
    return LogisticRegression(max_iter=2000).fit(
        pd.DataFrame(X_tr, columns=features), y_tr)


def main(argv):
    if len(argv) != 2:
        sys.exit("usage: %s OUT.joblib" % argv[0])
    out = argv[1]

    with open(os.path.join(FIXTURE, "expected.json")) as f:
        expected = json.load(f)
    features = manifest_features(os.path.join(EXAMPLE, "model.yaml"))
    assert features == expected["feature_names"], (features,
                                                   expected["feature_names"])
    assert features == manifest_features(os.path.join(FIXTURE, "model.yaml"))
    assert len(features) == 20
    tol = float(expected["tolerance"])

    reference = train()              # exactly as make_fixtures.py fits it
    model = train(features)          # same, fitted on named columns
    coef_diff = max(float(np.max(np.abs(model.coef_ - reference.coef_))),
                    float(np.max(np.abs(model.intercept_ - reference.intercept_))))
    assert coef_diff <= 1e-12, "DataFrame fit differs: %g" % coef_diff
    assert list(model.feature_names_in_) == features
    assert list(model.classes_) == [0, 1]

    # Same check as the fixture: float32 values of the inputs vs expected.json.
    X_json = np.asarray(expected["inputs"], dtype=np.float64)
    X_eval = pd.DataFrame(X_json.astype(np.float32).astype(np.float64),
                          columns=features)
    proba = model.predict_proba(X_eval)
    err = float(np.max(np.abs(proba - np.asarray(expected["probabilities"]))))
    assert err <= tol, "predict_proba vs expected.json: %g > %g" % (err, tol)
    assert model.predict(X_eval).tolist() == expected["label"]

    # sample.json as the FastAPI app sees it (float64 JSON values, one row).
    with open(os.path.join(EXAMPLE, "sample.json")) as f:
        sample = json.load(f)
    assert list(sample) == features, "sample.json keys != manifest order"
    df = pd.DataFrame([sample], columns=features)
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # no feature-name warnings allowed
        p = model.predict_proba(df)[0]
        label = model.predict(df).tolist()
    i = [list(r) for r in expected["inputs"]].index(
        [sample[n] for n in features])
    serr = float(np.max(np.abs(p - np.asarray(expected["probabilities"][i]))))
    assert serr <= tol, "sample.json predict_proba: %g > %g" % (serr, tol)
    assert label == [expected["label"][i]], (label, expected["label"][i])

    # Optional: the ONNX initialisers hold the same weights (float32).
    onnx_note = "onnx not importable, weights not compared"
    try:
        import onnx
        from onnx import numpy_helper
    except ImportError:
        pass
    else:
        m = onnx.load(os.path.join(EXAMPLE, "model.onnx"))
        w = {t.name: numpy_helper.to_array(t) for t in m.graph.initializer}
        werr = max(float(np.max(np.abs(w["coef"].ravel() - model.coef_.ravel()))),
                   float(np.max(np.abs(w["intercept"] - model.intercept_))))
        assert werr <= 1e-6, "ONNX weights differ from sklearn: %g" % werr
        onnx_note = "ONNX weights max diff %.1e (float32 rounding)" % werr

    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    joblib.dump(model, out)
    print("baseline model: %s\n  predict_proba vs expected.json: max diff %.1e "
          "(25 rows, tol %g); sample.json: %.1e, prediction %s; %s"
          % (out, err, tol, serr, label, onnx_note))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
