"""Evaluating a parser on held-out examples: per-intent scores, service routing, confusion matrix."""

from __future__ import annotations

import json
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from voicebot.catalogue import Catalogue
from voicebot.dialog.context import DialogSettings
from voicebot.nlu.data import Example
from voicebot.nlu.parser import NOT_A_REQUEST, Parser
from voicebot.nlu.routing import route


@dataclass
class Evaluation:
    lang: str
    total: int
    intent_accuracy: float
    service_accuracy: float
    median_ms: float
    p95_ms: float
    per_intent: dict[str, dict[str, float]] = field(default_factory=dict)
    errors: list[dict[str, Any]] = field(default_factory=list)

    def summary(self) -> str:
        return (f"{self.lang}: {self.total} held-out utterances; intent accuracy {self.intent_accuracy:.1%}, "
                f"intent->service accuracy {self.service_accuracy:.1%}; parse median {self.median_ms:.1f} ms, "
                f"p95 {self.p95_ms:.1f} ms; {len(self.errors)} misclassified")


def expected_service(intent: str, cat: Catalogue) -> str | None:
    return intent if intent in cat.by_id else None


def evaluate(parser: Parser, lang: str, examples: list[Example], cat: Catalogue,
             settings: DialogSettings) -> tuple[Evaluation, list[str], list[str]]:
    """Parse every example; returns the evaluation plus true and predicted intent lists."""
    truth, predicted, latencies = [], [], []
    intent_ok = service_ok = 0
    errors = []
    for ex in examples:
        started = time.perf_counter()
        result = parser.parse(ex.text, lang)
        latencies.append((time.perf_counter() - started) * 1000)
        pred = "out_of_scope" if result.intent in NOT_A_REQUEST else result.intent
        truth.append(ex.intent)
        predicted.append(pred)
        got_service = route(result.intent, result.confidence, settings, cat)
        intent_ok += pred == ex.intent
        service_ok += got_service == expected_service(ex.intent, cat)
        if pred != ex.intent or got_service != expected_service(ex.intent, cat):
            errors.append({"text": ex.text, "expected": ex.intent, "predicted": result.intent,
                           "confidence": round(result.confidence, 3), "service": got_service})
    latencies.sort()
    n = len(examples)
    ev = Evaluation(lang, n, intent_ok / n, service_ok / n, statistics.median(latencies),
                    latencies[min(n - 1, int(n * 0.95))], errors=errors)
    from sklearn.metrics import precision_recall_fscore_support

    labels = sorted(set(truth) | set(predicted))
    p, r, f, s = precision_recall_fscore_support(truth, predicted, labels=labels, zero_division=0)
    ev.per_intent = {lab: {"precision": round(float(p[i]), 3), "recall": round(float(r[i]), 3),
                           "f1": round(float(f[i]), 3), "support": int(s[i])} for i, lab in enumerate(labels)}
    return ev, truth, predicted


def write_report(ev: Evaluation, truth: list[str], predicted: list[str], out_dir: Path) -> list[Path]:
    """report.json (scores), errors.json (misclassified), confusion_matrix.png."""
    out_dir.mkdir(parents=True, exist_ok=True)
    report = out_dir / "report.json"
    report.write_text(json.dumps({"summary": ev.summary(), "intent_accuracy": ev.intent_accuracy,
                                  "service_accuracy": ev.service_accuracy, "median_ms": ev.median_ms,
                                  "p95_ms": ev.p95_ms, "per_intent": ev.per_intent}, indent=2, ensure_ascii=False))
    errors = out_dir / "errors.json"
    errors.write_text(json.dumps(ev.errors, indent=2, ensure_ascii=False))
    return [report, errors, _confusion_png(truth, predicted, out_dir / "confusion_matrix.png")]


def _confusion_png(truth: list[str], predicted: list[str], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import confusion_matrix

    labels = sorted(set(truth) | set(predicted))
    matrix = confusion_matrix(truth, predicted, labels=labels)
    fig, ax = plt.subplots(figsize=(14, 12))
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=90, fontsize=7)
    ax.set_yticks(range(len(labels)), labels, fontsize=7)
    for i in range(len(labels)):
        for j in range(len(labels)):
            if matrix[i, j]:
                ax.text(j, i, str(matrix[i, j]), ha="center", va="center", fontsize=6,
                        color="white" if i == j else "red")
    ax.set_xlabel("predicted intent")
    ax.set_ylabel("true intent")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
