"""``voicebot nlu``: the NLU trainer's workflow (validate, train, parse, test on held-out or outside data)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from voicebot import LANGUAGES
from voicebot.cli_common import LANG_OR_ALL, UserError, langs
from voicebot.config import Config

if TYPE_CHECKING:
    from voicebot.nlu.training import NluPaths


@click.group()
def nlu() -> None:
    """The NLU trainer's workflow: validate data, train, parse, evaluate."""


@nlu.command("train")
@click.option("--lang", type=LANG_OR_ALL, default="all", show_default=True)
@click.option("--force", is_flag=True, help="Retrain even if data and pipeline are unchanged.")
@click.option("--guard", is_flag=True,
              help="Train a candidate and put it in place only if it is not worse on the held-out and outside "
                   "data (prints both); running workers then load it.")
@click.pass_obj
def nlu_train(cfg: Config, lang: str, force: bool, guard: bool) -> None:
    """Train the Rasa model of a language into models/nlu/ (skipped when its inputs are unchanged)."""
    from voicebot.config import nlu_paths
    from voicebot.nlu.data import load_examples
    from voicebot.nlu.training import is_current, train

    paths = nlu_paths(cfg)
    for code in langs(lang):
        if guard:
            _train_guarded(cfg, paths, code)
            continue
        if not force and is_current(paths, code):
            click.echo(f"{code}: model is up to date ({paths.model(code)})")
            continue
        examples = load_examples(paths.data(code))
        click.echo(f"{code}: training on {len(examples)} examples of {len({e.intent for e in examples})} intents "
                   f"(seconds: encoding the sentences, then fitting the classifier)")
        model, seconds = train(paths, code, force=True)
        click.echo(f"{code}: trained in {seconds:.0f} s -> {model}")


@nlu.command("parse")
@click.option("--lang", type=click.Choice(LANGUAGES), required=True)
@click.option("--ranking", is_flag=True, help="Also print the three best intents with their confidences.")
@click.pass_obj
def nlu_parse(cfg: Config, lang: str, ranking: bool) -> None:
    """Read one utterance per line on stdin; print one JSON object per line (intent, service, entities)."""
    import json

    from voicebot.config import make_parser
    from voicebot.nlu.parser import NluUnavailable

    parser = make_parser(cfg)
    try:
        for line in sys.stdin:
            if line.strip():
                click.echo(json.dumps(parser.parse(line.strip(), lang).to_json(ranking), ensure_ascii=False))
                sys.stdout.flush()
    except NluUnavailable as exc:
        raise UserError(str(exc)) from exc


@nlu.command("test")
@click.option("--lang", type=LANG_OR_ALL, default="all", show_default=True)
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="reports/nlu", show_default=True)
@click.option("--cross-validation", "folds", type=int, default=0,
              help="Also run Rasa's N-fold cross-validation on the training data (minutes).")
@click.option("--outside", is_flag=True,
              help="Evaluate on other people's requests (nlu_data/outside/, never trained on) instead.")
@click.pass_obj
def nlu_test(cfg: Config, lang: str, out_dir: str, folds: int, outside: bool) -> None:
    """Evaluate on the held-out set (or --outside): per-intent scores, per-service routing, confusion matrix."""
    from voicebot.catalogue import catalogue
    from voicebot.config import make_parser, nlu_paths
    from voicebot.nlu.data import load_examples
    from voicebot.nlu.evaluation import evaluate, write_report
    from voicebot.nlu.outside import load_outside, outside_file, outside_files, score
    from voicebot.nlu.parser import NluUnavailable

    paths, parser = nlu_paths(cfg), make_parser(cfg)
    for code in langs(lang):
        sources = outside_files(cfg.base_dir, code) if outside else [paths.heldout(code)]
        if not sources or not sources[0].exists():
            missing = outside_file(cfg.base_dir, code) if outside else paths.heldout(code)
            click.echo(f"{code}: no outside collection ({missing} is missing; see nlu_data/outside/README.md)")
            continue
        for source in sources:
            examples = load_outside(source) if outside else load_examples(source)
            try:
                ev, truth, predicted = evaluate(parser, code, examples, catalogue(), cfg.dialog)
            except NluUnavailable as exc:
                raise UserError(str(exc)) from exc
            name = f"{code}-outside-{source.stem}" if outside else code
            files = write_report(ev, truth, predicted, cfg.path(out_dir) / name)
            click.echo(ev.summary().replace("held-out", "outside") + f" ({source.name})" if outside else ev.summary())
            scores = score(parser, code, examples, catalogue(), cfg.dialog)  # what the dialog would do with each
            click.echo("\n".join([*scores.lines(), scores.summary()]) if outside else scores.summary())
            click.echo("  reports: " + ", ".join(str(f) for f in files))
        if folds:
            _cross_validate(cfg, paths, code, folds, cfg.path(out_dir) / code / "cross-validation")


def _train_guarded(cfg: Config, paths: NluPaths, lang: str) -> None:
    from voicebot.nlu.promotion import retrain_guarded

    click.echo(f"{lang}: training a candidate, then comparing it with the model in use (about a minute)")
    result = retrain_guarded(paths, lang, cfg.dialog)
    click.echo(f"  in use:    {result.before.row() if result.before else 'none'}")
    click.echo(f"  candidate: {result.after.row()} (trained in {result.seconds:.0f} s)")
    click.echo("  promoted: the candidate is in use now" if result.promoted
               else "  kept the model in use: the candidate is worse on at least one figure")


def _cross_validate(cfg: Config, paths: NluPaths, lang: str, folds: int, out: Path) -> None:
    import subprocess

    click.echo(f"{lang}: {folds}-fold cross-validation (Rasa) -> {out}")
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2"}
    rasa = Path(sys.executable).with_name("rasa")
    subprocess.run([str(rasa), "test", "nlu", "--config", str(paths.config(lang)), "--nlu", str(paths.data(lang)),
                    "--cross-validation", "--folds", str(folds), "--out", str(out)], check=True, cwd=cfg.base_dir,
                   env=env)


@nlu.command("validate")
@click.option("--lang", type=LANG_OR_ALL, default="all", show_default=True)
@click.pass_obj
def nlu_validate(cfg: Config, lang: str) -> None:
    """Check the data: duplicates, conflicts across intents, thin intents, catalogue ids without an intent."""
    from voicebot.catalogue import catalogue
    from voicebot.config import nlu_paths
    from voicebot.nlu.data import load_examples
    from voicebot.nlu.validation import validate

    paths, errors = nlu_paths(cfg), 0
    for code in langs(lang):
        train, heldout = load_examples(paths.data(code)), load_examples(paths.heldout(code))
        problems = validate(train, heldout, catalogue())
        errors += sum(p.severity == "error" for p in problems)
        click.echo(f"{code}: {len(train)} training and {len(heldout)} held-out examples, "
                   f"{len({e.intent for e in train})} intents, {len(problems)} problems")
        for p in problems:
            click.echo(f"  {p}")
    if errors:
        raise UserError(f"{errors} errors in the NLU data")


@nlu.command("review")
@click.option("--lang", type=click.Choice(LANGUAGES), required=True)
@click.option("--limit", type=int, default=50, show_default=True, help="At most this many turns, newest first.")
@click.pass_obj
def nlu_review(cfg: Config, lang: str, limit: int) -> None:
    """The trainer's inbox in a terminal: label unsure caller turns into nlu_data/<lang>/inbox.yml.

    For each turn: 1-3 takes that guess, an intent name labels it so, o marks it out of scope,
    d dismisses it, s skips it, q stops. Each label is validated before it is kept.
    """
    from voicebot.cli_common import open_bank
    from voicebot.config import nlu_paths
    from voicebot.nlu.inbox_store import LabelError, label, labels, pending

    db, paths = open_bank(cfg, need_data=False).engine, nlu_paths(cfg)
    turns, known = pending(db, lang, limit), set(labels())
    if not turns:
        click.echo(f"the {lang} inbox is empty: no unsure caller turns waiting")
        return
    click.echo(f"{len(turns)} turns waiting in the {lang} inbox, newest first. For each: 1-3 takes that guess, "
               "an intent name labels it, o = out of scope, d = dismiss, s = skip, q = quit.")
    done = 0
    for n, turn in enumerate(turns, 1):
        click.echo(f"\n[{n}/{len(turns)}] {turn['text']!r}  ({turn['kind']} at {turn['step']}; then: "
                   f"{turn['then'] or '-'}; {turn['at']})")
        click.echo("  " + "   ".join(f"{i} {intent} {conf:.2f}" for i, (intent, conf) in enumerate(turn["ranking"], 1)))
        while True:
            try:
                answer = click.prompt("label", default="s", show_default=False).strip()
            except click.exceptions.Abort:
                answer = "q"
            if answer == "q":
                click.echo(f"\n{done} labelled.")
                return
            if answer == "s":
                break
            if answer.isdigit() and 1 <= int(answer) <= len(turn["ranking"]):
                action, intent = "label", turn["ranking"][int(answer) - 1][0]
            elif answer in ("o", "d"):
                action, intent = {"o": "out_of_scope", "d": "dismiss"}[answer], None
            elif answer in known:
                action, intent = "label", answer
            else:
                click.echo(f"  not an intent: {answer!r} (one of: {', '.join(sorted(known))})")
                continue
            try:
                result = label(db, turn["id"], action, paths, intent=intent, who=os.environ.get("USER", "terminal"))
            except LabelError as exc:
                click.echo(f"  {exc}")
                continue
            done += result.status != "dismissed"
            click.echo(f"  {result.status}" + (f" as {result.intent} in {result.file}" if result.file else ""))
            break
    click.echo(f"\n{done} labelled. 'voicebot nlu train --lang {lang}' retrains with them.")
