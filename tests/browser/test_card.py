"""A student's path through a card in a real browser: math, reveal, new numbers, language."""

import re

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_card_math_reveal_and_new_numbers(page):
    page.goto(f"{page.base}/questions/prop-03/")
    assert page.locator("h1").inner_text().startswith("Back-propagation by hand")
    page.wait_for_selector(".katex")  # KaTeX typeset the prompt's math (our own static copy)
    answer = page.locator("details.answer")
    assert not answer.evaluate("d => d.open")
    answer.locator("summary").click()
    assert answer.evaluate("d => d.open")
    assert "0.082167041" in answer.inner_text()

    reveal = page.locator(".numeric-item > details.reveal").first
    reveal.locator("> summary").click()
    assert "Verified" in reveal.inner_text()
    worked = reveal.locator(".asked .value").inner_text()

    page.click("#new-numbers")
    page.wait_for_url(re.compile(r"variant=1$"))
    assert page.locator("table.params").first.is_visible()
    page.locator(".numeric-item > details.reveal > summary").first.click()
    new = page.locator(".asked .value").first.inner_text()
    assert new != worked
    page.reload()
    page.locator(".numeric-item > details.reveal > summary").first.click()
    assert page.locator(".asked .value").first.inner_text() == new, "same numbers on reload"


def test_language_switch(page):
    page.goto(f"{page.base}/questions/prop-03/")
    page.select_option("#lang-select", "zh-hans")
    page.click(".lang button")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "用数值实例走一遍反向传播（2-2-2 网络）"
    assert page.locator("html").get_attribute("lang") == "zh-hans"


def test_search_finds_chinese_words_without_javascript(browser, live_server, bank_dir, settings):
    from studyapp.services import bank_load

    bank_load(bank_dir=bank_dir)
    context = browser.new_context(java_script_enabled=False, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{live_server.url}/questions/")
    page.fill("input[name=q]", "梯度")
    page.click(".filters button")
    assert page.locator("mark", has_text="梯度").count() >= 1
    assert "PROP-03" in page.locator(".question-list").inner_text()
    context.close()


def test_screenshot(page, screenshot_dir):
    """Writes the README's screenshot when SCREENSHOT_DIR is set (make screenshot)."""
    page.set_viewport_size({"width": 1100, "height": 1500})
    page.goto(f"{page.base}/questions/prop-03/?variant=0")
    page.wait_for_selector(".katex")
    page.locator(".numeric-item > details.reveal > summary").first.click()
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(screenshot_dir / "card.png"), full_page=False)


def test_calculator_shows_errors_on_the_field_and_recomputes(page):
    page.goto(f"{page.base}/engine/conv2d.output_size/")
    page.fill("#id_in_size", "5")
    page.fill("#id_kernel", "9")
    page.fill("#id_padding", "0")
    page.fill("#id_dilation", "1")
    page.click(".calc-form button")
    error = page.locator(".field.has-error .error")
    assert "dilated kernel spans 9 pixels" in error.inner_text()
    assert page.input_value("#id_kernel") == "9", "the user's input is kept"
    page.fill("#id_in_size", "227")
    page.fill("#id_kernel", "11")
    page.fill("#id_stride", "4")
    page.click(".calc-form button")
    assert "55" in page.locator(".answer-values dd").first.inner_text()
    page.wait_for_selector(".steps .katex")


@pytest.mark.parametrize("path", ["/questions/prop-03/?variant=2", "/engine/activation/",
                                  "/engine/optimizer/?name=adam&theta0=%5B1%2C1%5D"
                                  "&objective=quadratic&steps=10&lr=0.1"])
def test_pages_work_under_the_content_security_policy(page, path):
    response = page.goto(f"{page.base}{path}")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.wait_for_selector(".katex")
    page.wait_for_load_state("networkidle")
    assert page.console_errors == [], page.console_errors
