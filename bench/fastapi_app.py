"""The "classic" FastAPI + scikit-learn prediction service, as the baseline
for bench/predict_vs_fastapi.sh. Same request and response shape as mast's
POST /predict for examples/churn:

    POST /predict  {"age": 1.19, ..., "credit_score": -0.06}   (20 floats)
    ->             {"prediction": [0], "inference_time_ms": 0.41}
    GET  /health   {"status": "healthy", "model_loaded": true}

Run with Debian's Python (it has fastapi, uvicorn, sklearn, joblib, pandas):

    BASELINE_MODEL=/path/model.joblib /usr/bin/python3 -m uvicorn \
        --app-dir bench fastapi_app:app --port 8001

BASELINE_MODEL is written by bench/make_baseline_model.py.
"""

import os
import time

import joblib
import pandas as pd
from fastapi import FastAPI
from pydantic import BaseModel

# Manifest order (examples/churn/model.yaml); the model was fitted on a
# DataFrame with exactly these columns.
FEATURES = [
    "age", "tenure_months", "monthly_charges", "total_charges",
    "num_support_calls", "num_dependents", "contract_length_months",
    "avg_session_minutes", "data_usage_gb", "num_logins_30d",
    "days_since_last_login", "payment_delays", "num_products",
    "discount_pct", "satisfaction_score", "num_complaints", "referral_count",
    "account_balance", "late_fee_total", "credit_score",
]


class Features(BaseModel):
    age: float
    tenure_months: float
    monthly_charges: float
    total_charges: float
    num_support_calls: float
    num_dependents: float
    contract_length_months: float
    avg_session_minutes: float
    data_usage_gb: float
    num_logins_30d: float
    days_since_last_login: float
    payment_delays: float
    num_products: float
    discount_pct: float
    satisfaction_score: float
    num_complaints: float
    referral_count: float
    account_balance: float
    late_fee_total: float
    credit_score: float


assert list(Features.__fields__) == FEATURES

model = joblib.load(os.environ["BASELINE_MODEL"])
assert list(model.feature_names_in_) == FEATURES

app = FastAPI()


@app.get("/health")
async def health():
    return {"status": "healthy", "model_loaded": model is not None}


@app.post("/predict")
async def predict(features: Features):
    start = time.perf_counter()
    df = pd.DataFrame([features.dict()], columns=FEATURES)
    prediction = model.predict(df).tolist()
    elapsed_ms = (time.perf_counter() - start) * 1000.0
    return {"prediction": prediction, "inference_time_ms": elapsed_ms}
