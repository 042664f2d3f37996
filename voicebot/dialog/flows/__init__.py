"""Service flows: generators that yield ``Ask`` steps and receive the caller's answers.

A catalogue entry's ``handler`` "module.function" names the flow here; every flow takes
``(ctx, service)`` and reports its outcome with ``ctx.done``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Generator
from typing import Any

from voicebot.catalogue import Service
from voicebot.dialog.ask import Ask

Flow = Generator[Ask, Any, None]


def handler(name: str) -> Callable[..., Flow]:
    module, func = name.split(".")
    flow: Callable[..., Flow] = getattr(importlib.import_module(f"voicebot.dialog.flows.{module}"), func)
    return flow
__all__ = ["Flow", "Service", "handler"]
