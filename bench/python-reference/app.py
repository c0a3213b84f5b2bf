"""The Python reference server: FastAPI + the exam's scikit-learn pipeline, for bench/compare.sh.

It answers the same requests as emotion-api's v1 variant, with the same success shapes:

- `POST /predict` `{"sentence": "..."}` -> 200 `{"emotion", "confidence", "model_version"}`;
  an empty or blank sentence -> 422 `empty_sentence`, more than 5000 characters -> 422
  `text_too_long`, any other bad body -> 422 `invalid_request` (malformed JSON: 400
  `malformed_json`), each as `{"error": {"code", "message"}}` like the Rust service;
- `GET /health/live` -> `{"status": "live"}`, `GET /health/ready` -> `{"status": "ready",
  "model_version"}`.

Like the exam's `main.py`, the model is loaded when the module is imported (so a worker answers
only once it is in) and the handler is a plain `def`, which FastAPI runs in its thread pool.
It is a measuring stick, not a product: no metrics, no rate limit, no variants, no feedback.

    EMOTION_REFERENCE_MODEL=build/python-reference/model.joblib \
        uvicorn app:app --app-dir bench/python-reference --port 18110
"""

import hashlib
import os
from pathlib import Path

import joblib
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

ROOT = Path(__file__).resolve().parents[2]
MODEL_PATH = Path(os.environ.get("EMOTION_REFERENCE_MODEL", ROOT / "build" / "python-reference" / "model.joblib"))
MAX_TEXT_CHARS = 5000  # emotion-api's default EMOTION_MAX_TEXT_CHARS

MODEL_VERSION = hashlib.sha256(MODEL_PATH.read_bytes()).hexdigest()[:12]
model = joblib.load(MODEL_PATH)
labels = [str(c) for c in model.classes_]

app = FastAPI(title="emotion-gateway Python reference", version="1", openapi_url=None, docs_url=None)


class PredictRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")  # like the Rust service's deny_unknown_fields

    sentence: str


def error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": {"code": code, "message": message}})


@app.exception_handler(RequestValidationError)
async def invalid_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
    if any(e.get("type") == "json_invalid" for e in exc.errors()):
        return error(400, "malformed_json", "the body is not valid JSON")
    return error(422, "invalid_request", 'expected {"sentence": "<text>"}')


def is_blank(text: str) -> bool:
    """Only whitespace and control characters (the Rust service's rule, near enough)."""
    return all(c.isspace() or ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in text)


@app.post("/predict")
def predict(body: PredictRequest):
    text = body.sentence
    if is_blank(text):
        return error(422, "empty_sentence", "the sentence is empty or blank")
    if len(text) > MAX_TEXT_CHARS:
        return error(422, "text_too_long", f"the sentence is longer than {MAX_TEXT_CHARS} characters")
    probabilities = model.predict_proba([text])[0]
    best = int(probabilities.argmax())
    return {"emotion": labels[best], "confidence": float(probabilities[best]), "model_version": MODEL_VERSION}


@app.get("/health/live")
def live():
    return {"status": "live"}


@app.get("/health/ready")
def ready():
    return {"status": "ready", "model_version": MODEL_VERSION}
