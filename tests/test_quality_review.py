"""Quality review in a real browser: a QA reviewer finds a recorded call, plays it beside its
transcript with the card-data pause marked, and scores it; the supervisor's audit log has the
playback; an agent cannot open the pages. (The call is recorded in-process: tests/test_sip.py
records real SIP calls.)"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from tests.sip import env_for, seeded_bank, wait_for_http, write_config
from tests.test_console import CHROMIUM, DRIVER, PROJECT, browser, shot, sign_in
from tests.test_recording import balance_call, bot_voice
from voicebot.cluster.processes import free_port
from voicebot.console.operators import DEMO_OPERATOR

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not (CHROMIUM and DRIVER), reason="needs Debian's chromium and chromium-driver")]

REVIEWER, SUPERVISOR = ("quinn", "qa", "review-pass-1"), ("sue", "supervisor", "supervisor-pass-1")


@pytest.fixture(scope="module")
def reviewed(tmp_path_factory: pytest.TempPathFactory):
    from voicebot.bank.bank import Bank
    from voicebot.bank.db import make_engine
    from voicebot.cdr import cdr_line, store_lines
    from voicebot.channels.call import CallKit
    from voicebot.channels.voice_settings import VoiceSettings
    from voicebot.config import load_config
    from voicebot.dialog.context import DialogSettings
    from voicebot.nlu.keywords import KeywordParser
    from voicebot.recording.recordings import Recordings

    folder = tmp_path_factory.mktemp("qa")
    config = write_config(folder, seeded_bank(folder), (free_port(), free_port()))
    cfg = load_config(config)
    engine = make_engine(cfg.database_url)
    recordings = Recordings(cfg.recording, cfg.path)
    kit = CallKit("browser", 8000, Bank(engine), lambda lang: KeywordParser(), None, bot_voice, VoiceSettings(),
                  DialogSettings(), "010", starts=[recordings.for_channel("browser", 8000)])
    session = kit.call("en-US")
    balance_call(session)
    store_lines(engine, [cdr_line(session.ctx.record)])
    for name, role, password in (REVIEWER, SUPERVISOR):
        added = subprocess.run([sys.executable, "-m", "voicebot", "users", "add", name, "--role", role,
                                "--password-stdin"], input=f"{password}\n", cwd=PROJECT, env=env_for(config),
                               capture_output=True, text=True, timeout=120)
        assert added.returncode == 0, added.stderr
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "voicebot", "console", "--port", str(port), "--no-desk"],
                            cwd=PROJECT, env=env_for(config), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    url = f"http://127.0.0.1:{port}"
    wait_for_http(f"{url}/login", proc)
    yield {"url": url, "folder": folder, "call_id": session.call_id}
    proc.terminate()
    proc.wait(timeout=20)


def opener_for(url: str, name: str, password: str) -> urllib.request.OpenerDirector:
    import http.cookiejar

    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    opener.open(urllib.request.Request(f"{url}/login", method="POST", data=f"name={name}&password={password}".encode()))
    return opener


def status(opener: urllib.request.OpenerDirector, url: str, method: str = "GET") -> int:
    try:
        return opener.open(urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)).status
    except urllib.error.HTTPError as err:
        return err.code


def test_a_reviewer_plays_a_call_beside_its_transcript_and_scores_it(reviewed) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    url, call_id = reviewed["url"], reviewed["call_id"]
    driver = browser(reviewed["folder"])
    try:
        sign_in(driver, url, "/qa", REVIEWER[0], REVIEWER[2])
        WebDriverWait(driver, 20).until(lambda d: call_id in d.find_element(By.ID, "calls").text)
        row = driver.find_element(By.CSS_SELECTOR, f"tr[data-call-id='{call_id}']")
        assert "account.balance" in row.text and "self_service" in row.text
        row.click()
        WebDriverWait(driver, 20).until(lambda d: "Welcome to 95588" in d.find_element(By.ID, "transcript").text)
        transcript = driver.find_element(By.ID, "transcript").text
        assert "recording paused: card data" in transcript and "service account.balance: ok" in transcript
        assert len(driver.find_elements(By.CSS_SELECTOR, "#timeline .paused-span")) == 1
        assert "Paused for card data" in driver.find_element(By.ID, "paused").text
        driver.find_element(By.ID, "play").click()
        WebDriverWait(driver, 20).until(lambda d: d.execute_script(
            "const a = document.getElementById('player'); return !a.paused && a.currentTime > 0.5;"))
        boxes = driver.find_elements(By.CSS_SELECTOR, "#checks input")
        assert len(boxes) == 5
        for box in boxes[:4]:
            box.click()
        driver.find_element(By.ID, "comment").send_keys("identified before the balance")
        driver.find_element(By.CSS_SELECTOR, "#review button[type=submit]").click()
        WebDriverWait(driver, 20).until(lambda d: "80%" in d.find_element(By.ID, "reviews").text)
        shot(driver, "qa-review")
    finally:
        driver.quit()
    # the supervisor reads the playback in the audit log (in the browser too)
    driver = browser(reviewed["folder"])
    try:
        sign_in(driver, url, "/qa", SUPERVISOR[0], SUPERVISOR[2])
        WebDriverWait(driver, 20).until(lambda d: call_id in d.find_element(By.ID, "audit").text)
        audit = driver.find_element(By.ID, "audit").text
        assert f"{REVIEWER[0]} qa play {call_id}" in audit, audit
        shot(driver, "qa-audit")
    finally:
        driver.quit()


def test_an_agent_cannot_open_quality_review_and_a_reviewer_not_the_audit_log(reviewed) -> None:
    url, call_id = reviewed["url"], reviewed["call_id"]
    agent = opener_for(url, DEMO_OPERATOR[0], DEMO_OPERATOR[2])
    for path in ("/qa", "/api/qa/calls", f"/api/qa/calls/{call_id}", "/api/qa/audit"):
        assert status(agent, f"{url}{path}") == 403, path
    assert status(agent, f"{url}/api/qa/calls/{call_id}/play", "POST") == 403
    reviewer = opener_for(url, REVIEWER[0], REVIEWER[2])
    assert status(reviewer, f"{url}/api/qa/audit") == 403
    body = json.loads(reviewer.open(f"{url}/api/qa/calls/{call_id}").read())
    assert body["recording"]["paused_spans"] and "key_id" not in body["recording"]
    # an audio address is for the session that asked to play, and nothing edits the audit log
    outsider = opener_for(url, SUPERVISOR[0], SUPERVISOR[2])
    ticket = json.loads(reviewer.open(urllib.request.Request(f"{url}/api/qa/calls/{call_id}/play", method="POST",
                                                             data=b"")).read())["audio"]
    assert status(reviewer, f"{url}{ticket}") == 200
    assert status(outsider, f"{url}{ticket}") == 404
    for method in ("POST", "DELETE", "PUT"):
        assert status(outsider, f"{url}/api/qa/audit", method) in (403, 405), method
