"""Service flows: generators that yield ``Ask`` steps and receive the caller's answers.

A catalogue entry's ``handler`` "module.function" names the flow here; every flow takes
``(ctx, service)`` and reports its outcome with ``ctx.done``.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Generator
from typing import Any

from voicebot.catalogue import Service
from voicebot.dialog.ask import Ask
from voicebot.dialog.context import CallContext

Flow = Generator[Ask, Any, None]


def handler(name: str) -> Callable[..., Flow]:
    module, func = name.split(".")
    flow: Callable[..., Flow] = getattr(importlib.import_module(f"voicebot.dialog.flows.{module}"), func)
    return flow


def serve(ctx: CallContext, service: Service, corporate: bool) -> Flow:
    """A service as the caller gets it: sign-in first where the service needs it, then its flow."""
    from voicebot.dialog.flows.common import authenticate

    if service.auth and ctx.customer is None:
        identified = yield from authenticate(ctx, corporate)
        if not identified:
            if not ctx.ended:
                ctx.done(service.id, "failed", error="not_identified")
            return
    flow = handler(service.handler)(ctx, service)
    if inspect.isgenerator(flow):
        yield from flow


__all__ = ["Flow", "Service", "handler", "serve"]
