"""``/stall/`` in Chromium on a 360×740 phone: a signed webhook recorded while
the page is open puts the receipt on top of today's list, updates the total
and announces it (the phone's Vietnamese voice with lang vi-VN, or the word
clips where it has none, or nothing but the screen when muted), the
announcement is acknowledged to the server, and a reload announces nothing
again. The speech and audio of the browser are spied on (``add_init_script``);
everything else is real: the live server, the webhook, the ledger, the stream.
Also: the JavaScript reading of amounts agrees with ``chopay.spoken``."""

from __future__ import annotations

import datetime as dt
import json
import random
import sys
import time
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone

from chopay.spoken import CLIP_FILES, clip_names, vietnamese_words
from payments.models import Payment, ReceiptAnnouncement
from tests.browser import screenshot
from tests.onboarding.traders.browser_support import TAP_TARGETS_TOO_SMALL
from tests.payments.bank_credits.webhooks_support import provider_keys, sepay_body, sepay_post

__all__ = ["provider_keys"]  # the fixture

pytestmark = pytest.mark.django_db(transaction=True)

WIDTH, HEIGHT = 360, 740

# Stands in for the phone's speech engine: records each utterance (text, lang,
# voice) and ends it at once; getVoices() answers the given list.
SPEECH_SPY = """(voices) => {
  window.__spoken = [];
  window.SpeechSynthesisUtterance = function (text) { this.text = text; this.lang = ""; this.voice = null; };
  speechSynthesis.getVoices = () => voices;
  speechSynthesis.speak = (u) => {
    window.__spoken.push({text: u.text, lang: u.lang, voice: u.voice ? u.voice.name : null});
    setTimeout(() => u.onend && u.onend(), 20);
  };
}"""

# Records each clip played (its file name) and ends it at once.
AUDIO_SPY = """() => {
  window.__played = [];
  HTMLMediaElement.prototype.play = function () {
    window.__played.push(this.src.split('/').pop());
    setTimeout(() => this.dispatchEvent(new Event('ended')), 5);
    return Promise.resolve();
  };
}"""

VI_VOICE = [{"name": "Tiếng Việt (Việt Nam)", "lang": "vi-VN", "default": False, "localService": True}]
EN_VOICE = [{"name": "English (US)", "lang": "en-US", "default": True, "localService": True}]


def _requests_in_flight() -> int:
    """Threads of the live server still sending an answer (an event stream)."""
    count = 0
    for top in sys._current_frames().values():
        frame: Any = top
        while frame is not None:
            if frame.f_code.co_name == "finish_response":
                count += 1
                break
            frame = frame.f_back
    return count


@pytest.fixture(autouse=True)
def _streams_end_with_the_test(live_server: Any, browser: Any, settings: Any) -> Any:
    """The live server answers an event stream from a thread that notices its
    page is gone only when it next writes: pings every second here, and the
    test waits for those threads to end before the database is emptied (with
    SQLite the server's threads share the test's connection)."""
    settings.STALL_KEEPALIVE_SECONDS = 1
    yield
    for context in browser.contexts:
        context.close()
    deadline = time.monotonic() + 8
    while _requests_in_flight() and time.monotonic() < deadline:
        time.sleep(0.1)


def _script(function: str, *args: Any) -> str:
    return f"({function})({', '.join(json.dumps(a) for a in args)});"


def _open_stall(live_server: Any, page_at: Any, user: Any, *, voices: list[dict[str, Any]]) -> Any:
    page = page_at(WIDTH, height=HEIGHT)
    page.errors = []  # the page's uncaught script errors
    page.on("pageerror", lambda error: page.errors.append(error))
    page.context.add_init_script(_script(SPEECH_SPY, voices))
    page.context.add_init_script(_script(AUDIO_SPY))
    client = Client()
    client.force_login(user)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    page.goto(live_server.url + "/stall/")
    page.wait_for_selector("[data-stall][data-live]")  # the script runs
    return page


def _pay(vendor: Any, amount: int) -> Payment:
    """A signed SePay webhook for a transfer to the vendor's stall QR, now."""
    now = timezone.now().astimezone(ZoneInfo("Asia/Ho_Chi_Minh")).strftime("%Y-%m-%d %H:%M:%S")
    body = sepay_body(content=f"CHO40 {vendor.merchant_code} rau", amount=amount, when=now)
    assert sepay_post(Client(), body).status_code == 200
    return Payment.objects.get(provider_txn_id=str(body["id"]))


def _announcement(payment: Payment, *, timeout: float = 10.0) -> ReceiptAnnouncement:
    deadline = timezone.now() + dt.timedelta(seconds=timeout)
    while timezone.now() < deadline:
        found = ReceiptAnnouncement.objects.filter(payment=payment).first()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"no acknowledgement of payment {payment.pk}")


def _overlay(page: Any) -> list[str]:
    """What the full-screen overlay says: its title and the amount."""
    return [page.locator(f"[data-overlay-{part}]").inner_text() for part in ("title", "amount")]


def _top_id(page: Any) -> int:
    return int(page.locator("[data-receipts] > li").first.get_attribute("data-payment-id"))


def test_a_payment_appears_on_top_and_is_spoken_in_vietnamese(live_server, page_at, cast, provider_keys):
    earlier = _pay(cast.vendor, 20_000)
    page = _open_stall(live_server, page_at, cast.vendor_user, voices=VI_VOICE)
    assert page.get_by_test_id("today-value").inner_text() == "20.000 ₫"
    assert page.evaluate("document.scrollingElement.scrollWidth") <= WIDTH
    assert page.evaluate(TAP_TARGETS_TOO_SMALL) == []
    screenshot(page, "stall-page")
    page.get_by_role("button", name="Bật loa").click()
    assert page.get_by_role("button", name="Loa đang bật").is_visible()

    payment = _pay(cast.vendor, 64_000)

    page.locator(f'[data-receipts] > li[data-payment-id="{payment.pk}"]').wait_for()
    assert _top_id(page) == payment.pk
    # The list shows the receipt first; the amount goes full screen once this tab has
    # claimed it (under the Web Lock, a moment later).
    page.get_by_test_id("overlay").wait_for(state="visible", timeout=5_000)
    assert _overlay(page) == ["Đã nhận", "64.000 ₫"]
    screenshot(page, "stall-announced", full_page=False)
    page.wait_for_function("() => window.__spoken.some(u => u.text.startsWith('Đã nhận sáu'))")
    spoken = [u for u in page.evaluate("window.__spoken") if u["text"]]
    assert spoken == [{"text": "Đã nhận sáu mươi tư nghìn đồng", "lang": "vi-VN", "voice": "Tiếng Việt (Việt Nam)"}]
    assert page.evaluate("window.__played") == []
    assert page.get_by_test_id("stall").get_attribute("data-chimes") == "1"  # the chime came first
    assert page.get_by_test_id("today-value").inner_text() == "84.000 ₫"
    assert page.get_by_test_id("today-count").inner_text() == "2"
    page.get_by_test_id("overlay").click()  # tap to close
    assert page.get_by_test_id("overlay").is_hidden()
    screenshot(page, "stall-after-payment")
    ack = _announcement(payment)
    assert ack.method == "speech"
    assert ack.device_id == page.evaluate("localStorage.getItem('cho40.device')")
    assert not ReceiptAnnouncement.objects.filter(payment=earlier).exists()  # shown at load, never announced

    page.reload()
    page.wait_for_selector("[data-stall][data-live]")
    page.wait_for_timeout(1500)
    assert _top_id(page) == payment.pk
    assert page.evaluate("window.__spoken") == []
    assert page.get_by_test_id("overlay").is_hidden()
    remembered = page.evaluate(
        "Object.keys(localStorage).filter(k => k.startsWith('cho40.announced.')).map(k => JSON.parse(localStorage[k]))"
    )
    assert len(remembered) == 1 and payment.pk in remembered[0]  # one key: today's (Vietnam) ids
    assert ReceiptAnnouncement.objects.filter(payment=payment).count() == 1
    assert page.errors == []


def test_without_a_vietnamese_voice_it_plays_the_word_clips_in_order(live_server, page_at, cast, provider_keys):
    page = _open_stall(live_server, page_at, cast.vendor_user, voices=EN_VOICE)
    page.get_by_role("button", name="Bật loa").click()

    first, second = _pay(cast.vendor, 105_000), _pay(cast.vendor, 1_015_000)

    expected = [f"{name}.ogg" for name in clip_names(105_000) + clip_names(1_015_000)]
    page.wait_for_function(f"() => window.__played.length >= {len(expected)}", timeout=20_000)
    assert page.evaluate("window.__played") == expected  # one after the other, not cut
    assert page.evaluate("window.__spoken.filter(u => u.text)") == []
    assert [_top_id(page), _announcement(first).method, _announcement(second).method] == [second.pk, "clips", "clips"]
    assert page.get_by_test_id("today-value").inner_text() == "1.120.000 ₫"
    assert page.errors == []


def test_a_phone_that_refuses_to_play_is_reported_silent(live_server, page_at, cast, provider_keys):
    page = _open_stall(live_server, page_at, cast.vendor_user, voices=EN_VOICE)
    page.context.add_init_script(
        "HTMLMediaElement.prototype.play = function () {"
        " return Promise.reject(new DOMException('no sound before a tap', 'NotAllowedError')); };"
    )
    page.reload()
    page.get_by_role("button", name="Bật loa").click()

    payment = _pay(cast.vendor, 42_000)

    page.get_by_test_id("overlay").wait_for()
    assert _overlay(page) == ["Đã nhận", "42.000 ₫"]  # still on screen
    assert _announcement(payment).method == "silent"


def test_muted_it_only_shows_the_amount_and_says_so_to_the_server(live_server, page_at, cast, provider_keys):
    page = _open_stall(live_server, page_at, cast.vendor_user, voices=VI_VOICE)
    page.get_by_role("button", name="Bật loa").click()
    page.get_by_label("Tắt tiếng").check()

    payment = _pay(cast.vendor, 35_000)

    page.get_by_test_id("overlay").wait_for()
    assert _overlay(page) == ["Đã nhận", "35.000 ₫"]
    assert _announcement(payment).method == "silent"
    assert page.evaluate("window.__spoken.filter(u => u.text)") == []
    assert page.evaluate("window.__played") == []
    assert page.get_by_test_id("stall").get_attribute("data-chimes") is None  # no chime either
    page.reload()
    assert page.get_by_label("Tắt tiếng").is_checked()  # remembered


def test_the_test_button_speaks_a_sample_without_telling_the_server(live_server, page_at, cast):
    page = _open_stall(live_server, page_at, cast.vendor_user, voices=VI_VOICE)

    page.get_by_role("button", name="Thử loa").click()

    page.wait_for_function("() => window.__spoken.some(u => u.text)")
    assert [u["text"] for u in page.evaluate("window.__spoken") if u["text"]] == ["Đã nhận sáu mươi tư nghìn đồng"]
    assert _overlay(page) == ["Thử loa", "64.000 ₫"]
    screenshot(page, "stall-speaker-test", full_page=False)
    assert not ReceiptAnnouncement.objects.exists()


def test_where_event_streams_fail_it_polls_and_still_announces(live_server, page_at, cast, provider_keys):
    page = page_at(WIDTH, height=HEIGHT)
    page.route("**/stall/events/**", lambda route: route.fulfill(status=502, body="Bad gateway"))
    page.add_init_script(_script(SPEECH_SPY, VI_VOICE))
    client = Client()
    client.force_login(cast.vendor_user)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    page.goto(live_server.url + "/stall/")
    page.wait_for_selector("[data-stall][data-live=polling]", timeout=20_000)
    page.get_by_role("button", name="Bật loa").click()

    payment = _pay(cast.vendor, 21_000)

    page.locator(f'[data-payment-id="{payment.pk}"]').wait_for()
    page.wait_for_function("() => window.__spoken.some(u => u.text.includes('hai mươi mốt nghìn'))")
    assert _announcement(payment).method == "speech"


def test_the_page_reads_amounts_exactly_as_the_python_library(live_server, page_at, cast):
    page = _open_stall(live_server, page_at, cast.vendor_user, voices=[])
    rng = random.Random(14)
    amounts = [1, 5, 10, 11, 14, 15, 21, 24, 25, 101, 104, 105, 110, 1_000, 10_000, 64_000, 105_000, 1_015_000]
    amounts += [1_000_005, 2_000_500, 5_001_000_000, 999_999_999_999]
    amounts += [rng.randint(1, 999) * 1_000 for _ in range(150)]
    amounts += [rng.randint(1, 999_999_999_999) for _ in range(150)]
    amounts += [rng.randint(1, 10 ** rng.randint(1, 12) - 1) for _ in range(100)]

    in_browser = page.evaluate("(amounts) => amounts.map(n => Cho40Words.words(n))", amounts)
    clips = page.evaluate("(amounts) => amounts.map(n => Cho40Words.clips(n))", amounts)

    assert len(amounts) > 400
    for amount, words, names in zip(amounts, in_browser, clips, strict=True):
        assert words == vietnamese_words(amount), amount
        assert names == clip_names(amount), amount
    names = sorted({name for row in clips for name in row})
    # Every clip the page may ask for is served, and Chromium decodes it: a word's length.
    seconds = page.evaluate(
        """(urls) => Promise.all(urls.map(url => fetch(url).then(r => r.arrayBuffer())
             .then(data => new OfflineAudioContext(1, 8000, 8000).decodeAudioData(data))
             .then(audio => audio.duration, () => -1)))""",
        [f"{live_server.url}/static/audio/vi/{name}.ogg" for name in names],
    )
    assert names == sorted(CLIP_FILES.values())  # the amounts used every word
    assert all(0.1 < s < 1.5 for s in seconds), dict(zip(names, seconds, strict=True))


def test_two_tabs_of_one_phone_announce_a_payment_once(live_server, page_at, cast, provider_keys):
    first = _open_stall(live_server, page_at, cast.vendor_user, voices=VI_VOICE)
    second = first.context.new_page()  # same phone (browser profile), another tab
    second.goto(live_server.url + "/stall/")
    second.wait_for_selector("[data-stall][data-live]")
    for page in (first, second):
        page.bring_to_front()
        page.get_by_role("button", name="Bật loa").click()

    payment = _pay(cast.vendor, 50_000)

    for page in (first, second):
        page.locator(f'[data-payment-id="{payment.pk}"]').wait_for()
    _announcement(payment)
    first.wait_for_timeout(1500)
    spoken = [u["text"] for page in (first, second) for u in page.evaluate("window.__spoken") if u["text"]]
    assert spoken == ["Đã nhận năm mươi nghìn đồng"]
    assert ReceiptAnnouncement.objects.filter(payment=payment).count() == 1


def test_the_amount_closes_by_itself_and_the_page_says_when_it_cannot_keep_the_screen_on(live_server, page_at, cast):
    page = page_at(WIDTH, height=HEIGHT)
    page.add_init_script("delete Navigator.prototype.wakeLock;")  # a phone without the Wake Lock API
    page.add_init_script(_script(SPEECH_SPY, VI_VOICE))
    client = Client()
    client.force_login(cast.vendor_user)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    page.goto(live_server.url + "/stall/")

    note = page.get_by_text("Điện thoại này không tự giữ màn hình sáng được")
    note.wait_for()
    screenshot(page, "stall-no-wake-lock")
    page.get_by_role("button", name="Thử loa").click()
    assert page.get_by_test_id("overlay").is_visible()
    page.get_by_test_id("overlay").wait_for(state="hidden", timeout=6_000)  # after about 4 s


def test_without_javascript_the_list_and_the_reload_link_are_there(live_server, browser, cast, provider_keys):
    payment = _pay(cast.vendor, 64_000)
    context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT}, java_script_enabled=False)
    client = Client()
    client.force_login(cast.vendor_user)
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])
    page = context.new_page()
    page.goto(live_server.url + "/stall/")

    assert _top_id(page) == payment.pk
    assert page.get_by_test_id("today-value").inner_text() == "64.000 ₫"
    assert page.get_by_role("button", name="Bật loa").is_hidden()  # no sound without the script
    assert page.get_by_role("link", name="Tải lại").is_visible()
    screenshot(page, "stall-without-javascript", full_page=False)
    page.get_by_role("link", name="Tải lại").click()
    assert _top_id(page) == payment.pk


def test_a_dropped_connection_resumes_without_a_missing_or_repeated_receipt(
    live_server, page_at, cast, provider_keys, settings
):
    settings.STALL_STREAM_MAX_SECONDS = 2  # the server ends each stream after 2 s: the page reconnects
    page = _open_stall(live_server, page_at, cast.vendor_user, voices=VI_VOICE)
    page.get_by_role("button", name="Bật loa").click()
    first = _pay(cast.vendor, 30_000)
    page.locator(f'[data-receipts] > li[data-payment-id="{first.pk}"]').wait_for()

    # The connection drops: the stream ends and every reconnection fails for a while,
    # during which a payment is recorded.
    page.route("**/stall/events/**", lambda route: route.abort("connectionreset"))
    page.wait_for_function("() => document.querySelector('[data-stall]').dataset.live !== 'stream'", timeout=10_000)
    missed = _pay(cast.vendor, 45_000)
    page.wait_for_timeout(1500)
    assert page.locator(f'[data-payment-id="{missed.pk}"]').count() == 0  # not there while disconnected
    page.unroute("**/stall/events/**")

    page.locator(f'[data-receipts] > li[data-payment-id="{missed.pk}"]').wait_for(timeout=20_000)
    page.wait_for_function("() => window.__spoken.some(u => u.text.includes('bốn mươi lăm nghìn'))")
    page.wait_for_timeout(3000)  # another reconnection or two: nothing may come twice
    ids = [int(li.get_attribute("data-payment-id")) for li in page.locator("[data-receipts] > li").all()]
    assert ids == [missed.pk, first.pk]
    spoken = [u["text"] for u in page.evaluate("window.__spoken") if u["text"]]
    assert spoken == ["Đã nhận ba mươi nghìn đồng", "Đã nhận bốn mươi lăm nghìn đồng"]
    assert page.get_by_test_id("today-count").inner_text() == "2"
    assert page.get_by_test_id("today-value").inner_text() == "75.000 ₫"
    assert ReceiptAnnouncement.objects.filter(payment__in=[first, missed]).count() == 2
    screenshot(page, "stall-resumed")
    assert page.errors == []
