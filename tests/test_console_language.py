"""The console in Chinese: a browser that prefers zh-CN gets every page in Chinese (login
included), with dates and numbers formatted for it; the switch on the page changes language
and is remembered. Screenshots of each page go to var/screenshots/ (looked at by people)."""

from __future__ import annotations

import re

import pytest

from tests.test_console import CHROMIUM, DRIVER, browser, shot, sign_in
from tests.test_quality_review import SUPERVISOR, reviewed  # noqa: F401 - the console with a recorded call

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not (CHROMIUM and DRIVER), reason="needs Debian's chromium and chromium-driver")]

PAGES = ("/phone", "/desk", "/inbox", "/wallboard", "/reports", "/qa")
# words that may stay in Latin letters on a Chinese page: names, codes, units, data
KEPT = {"sue", "SIP", "CSV", "NLU", "PIN", "ms", "English", "en", "US", "zh", "CN", "nlu_data", "lang", "inbox", "yml",
        "central", "account", "balance", "desk", "no", "sip"}


def latin_words(driver) -> set[str]:
    """Words in Latin letters on the page, the call's own words left out (a transcript is what was said)."""
    text = driver.execute_script("const shown = document.body.cloneNode(true);"
                                 "shown.querySelectorAll('#transcript, script').forEach((e) => e.remove());"
                                 "const w = document.createTreeWalker(shown, NodeFilter.SHOW_TEXT), out = [];"
                                 "for (let n = w.nextNode(); n; n = w.nextNode()) out.push(n.nodeValue);"
                                 "return out.join(' ');")
    text = re.sub(r"\b[0-9a-f]{16,}\b", " ", text)  # call ids
    return {w for w in re.findall(r"[A-Za-z][A-Za-z_]+", text)} - KEPT


def test_a_browser_that_prefers_chinese_gets_every_page_in_chinese(reviewed) -> None:  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    url = reviewed["url"]
    driver = browser(reviewed["folder"], lang="zh-CN")
    try:
        driver.get(f"{url}/login")
        assert driver.execute_script("return document.documentElement.lang") == "zh-CN"
        assert driver.find_element(By.ID, "sign-in").text == "登录" and "密码" in driver.page_source
        assert not latin_words(driver), latin_words(driver)
        shot(driver, "zh-login")
        sign_in(driver, url, "/phone", SUPERVISOR[0], SUPERVISOR[2])
        for page in PAGES:
            driver.get(f"{url}{page}")
            WebDriverWait(driver, 20).until(lambda d: "班长" in d.find_element(By.ID, "operator").text)
            if page == "/qa":
                WebDriverWait(driver, 20).until(lambda d: "共 1 通" in d.find_element(By.ID, "found").text)
                driver.find_element(By.CSS_SELECTOR, "#calls tbody tr").click()
                paused = WebDriverWait(driver, 20).until(lambda d: d.find_element(By.ID, "paused").text)
                assert "采集卡信息时已暂停录音" in paused, paused
                assert "秒" in driver.find_element(By.ID, "calls").text  # the duration, in Chinese
            if page == "/reports":
                WebDriverWait(driver, 20).until(lambda d: "共" in d.find_element(By.ID, "summary").text)
            assert driver.execute_script("return document.documentElement.lang") == "zh-CN", page
            left = latin_words(driver)
            assert not left, (page, left)
            shot(driver, f"zh-{page.strip('/')}")
    finally:
        driver.quit()


def test_the_switch_changes_the_language_and_is_remembered(reviewed) -> None:  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    url = reviewed["url"]
    driver = browser(reviewed["folder"])  # prefers English
    try:
        sign_in(driver, url, "/reports", SUPERVISOR[0], SUPERVISOR[2])
        WebDriverWait(driver, 20).until(lambda d: "calls from" in d.find_element(By.ID, "summary").text)
        Select(driver.find_element(By.ID, "ui-lang")).select_by_value("zh-CN")
        WebDriverWait(driver, 20).until(lambda d: "共" in d.find_element(By.ID, "summary").text)
        assert driver.find_element(By.CSS_SELECTOR, "header h1").text == "95588 统计报表"
        driver.get(f"{url}/wallboard")  # another page: still Chinese
        WebDriverWait(driver, 20).until(lambda d: "更新于" in d.find_element(By.ID, "updated").text)
        Select(driver.find_element(By.ID, "ui-lang")).select_by_value("en-US")
        WebDriverWait(driver, 20).until(lambda d: "Updated" in d.find_element(By.ID, "updated").text)
    finally:
        driver.quit()
