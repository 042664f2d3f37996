"""``voicebot nlu serve`` and the cluster's shared NLU servers: one language's model behind a
small HTTP API for the SIP workers.

Two endpoints, both asking for the token in an ``Authorization: Bearer`` header:
``POST /model/parse`` (``{"text": ...}`` -> Rasa's parse result) and ``GET /status``. Nothing
here can replace, train or unload the model, and no other endpoint is served: a retrained model
file is picked up from disk as in process (``RasaInProcess``). The token comes from the
environment (``VOICEBOT_NLU_TOKEN``) or a file (``--token-file``), never from the command line,
where any local user could read it in the process list. Run as
``python -m voicebot.nlu.server --model models/nlu/en-US.tar.gz --port 5005``.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from aiohttp import web

from voicebot.nlu.parser import NluUnavailable
from voicebot.nlu.rasa_backend import RasaInProcess
from voicebot.service_token import bearer, read_token, service_arguments, token_middleware

log = logging.getLogger("voicebot.nlu")
__all__ = ["TOKEN_ENV", "bearer", "build_app", "main"]
TOKEN_ENV = "VOICEBOT_NLU_TOKEN"
MAX_TEXT = 2000  # characters of one utterance; a turn is a sentence or two


def build_app(parser: RasaInProcess, lang: str, token: str) -> web.Application:
    async def status(request: web.Request) -> web.StreamResponse:
        return web.json_response({"language": lang, "model": parser.model_path(lang).name})

    async def parse(request: web.Request) -> web.StreamResponse:
        try:
            text = (await request.json())["text"]
        except (ValueError, KeyError, TypeError) as exc:
            raise web.HTTPBadRequest(text='the body is {"text": "..."}') from exc
        if not isinstance(text, str) or len(text) > MAX_TEXT:
            raise web.HTTPBadRequest(text=f"the text is a string of at most {MAX_TEXT} characters")
        # parsed on the server's one thread, one request at a time (the agent is not shared between
        # threads): no hand-over to a parsing thread and back for each request, which cost a tenth
        # of a parse's CPU (9.3 against 10.3 ms with the two cores busy)
        raw = await parser.raw_parse_here(text, lang)
        return web.json_response(raw)

    app = web.Application(middlewares=[token_middleware(token)], client_max_size=64 * 1024)
    app.add_routes([web.get("/status", status), web.post("/model/parse", parse)])
    return app


def main(argv: list[str] | None = None) -> int:
    ap = service_arguments("python -m voicebot.nlu.server", __doc__ or "",
                           "The model file, models/nlu/<lang>.tar.gz.", 5005, TOKEN_ENV)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    model = Path(args.model)
    lang = model.name.removesuffix(".tar.gz")
    token = read_token(TOKEN_ENV, args.token_file)
    if not token:
        print(f"no token: set {TOKEN_ENV} or give --token-file, so that only the workers may parse", file=sys.stderr)
        return 2
    parser = RasaInProcess(model.parent)
    try:
        parser.load(lang)
    except NluUnavailable as exc:
        print(str(exc), file=sys.stderr)
        return 2
    log.info("NLU server for %s on %s:%s with %s: starting", lang, args.host, args.port, model)
    web.run_app(build_app(parser, lang, token), host=args.host, port=args.port,  # says so once it listens
                print=lambda _: log.info("NLU server for %s ready on %s:%s", lang, args.host, args.port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
