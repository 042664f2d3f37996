"""A Rasa intent classifier: logistic regression over the sentence encoder's vector plus word and
character n-gram counts.

Chosen by measurement over DIET on the same features (see ``bench/nlu_bench.py`` and the NLU
notes in README): on other people's wording DIET fitted the n-gram counts of our own sentences
and lost the encoder's sense of meaning, while a regularised linear model over both kept it,
with our held-out sentences as well recognised as before. It trains in seconds and stores its
weights as plain arrays (no pickle).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.featurizers.featurizer import Featurizer
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from scipy.sparse import csr_matrix, hstack, vstack

_WEIGHTS = "weights.npz"


def _row(message: Message, sparse_weight: float) -> csr_matrix:
    """One message's features: the dense sentence vector, then the L2-normalised sparse counts."""
    sparse = message.get_sparse_features(TEXT)[1]
    dense = message.get_dense_features(TEXT)[1]
    parts = []
    if dense is not None:
        parts.append(csr_matrix(np.asarray(dense.features, dtype=np.float32).reshape(1, -1)))
    if sparse is not None:
        counts = csr_matrix(sparse.features, dtype=np.float32)
        norm = float(np.sqrt(counts.multiply(counts).sum())) or 1.0
        parts.append(counts * (sparse_weight / norm))
    return hstack(parts).tocsr() if parts else csr_matrix((1, 0))


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class EncoderIntentClassifier(GraphComponent, IntentClassifier):
    """Intent ranking from a multinomial logistic regression (``C`` sets how closely it fits)."""

    @classmethod
    def required_components(cls) -> list[type]:
        return [Featurizer]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"C": 100.0, "sparse_weight": 0.5, "max_iter": 3000, "ranking_length": 10}

    def __init__(self, config: dict[str, Any], model_storage: ModelStorage, resource: Resource) -> None:
        self.config = {**self.get_default_config(), **config}
        self._storage, self._resource = model_storage, resource
        self.classes: NDArray[Any] = np.array([])
        self.coef: NDArray[Any] = np.zeros((0, 0))
        self.intercept: NDArray[Any] = np.zeros(0)

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> EncoderIntentClassifier:
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        from sklearn.linear_model import LogisticRegression

        examples = [e for e in training_data.intent_examples if e.get(INTENT) and e.get(TEXT)]
        if not examples:
            return self._resource
        x = vstack([_row(e, self.config["sparse_weight"]) for e in examples]).tocsr()
        model = LogisticRegression(C=self.config["C"], max_iter=self.config["max_iter"], random_state=1)
        model.fit(x, [e.get(INTENT) for e in examples])
        self.classes, self.coef, self.intercept = model.classes_, model.coef_.astype(np.float32), model.intercept_
        with self._storage.write_to(self._resource) as folder:
            np.savez(folder / _WEIGHTS, classes=self.classes.astype(str), coef=self.coef, intercept=self.intercept)
        return self._resource

    @classmethod
    def load(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> EncoderIntentClassifier:
        component = cls(config, model_storage, resource)
        try:
            with model_storage.read_from(resource) as folder:
                data = np.load(folder / _WEIGHTS, allow_pickle=False)
                component.classes, component.coef = data["classes"], data["coef"]
                component.intercept = data["intercept"]
        except (ValueError, FileNotFoundError):
            pass  # an untrained component (no examples) answers nothing
        return component

    def process(self, messages: list[Message]) -> list[Message]:
        if not len(self.classes):
            return messages
        for message in messages:
            if not message.get(TEXT):
                continue
            scores = np.asarray(_row(message, self.config["sparse_weight"]) @ self.coef.T).ravel() + self.intercept
            probs = np.exp(scores - scores.max())
            probs /= probs.sum()
            order = np.argsort(-probs)[: self.config["ranking_length"]]
            ranking = [{"name": str(self.classes[i]), "confidence": float(probs[i])} for i in order]
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set("intent_ranking", ranking, add_to_output=True)
        return messages
