"""The resident's web app in Chromium: the door rings, its video plays before answering, the
resident answers, unlocks with the code, sends a quick reply, holds, hangs up, sees the history."""

from __future__ import annotations

import pytest
from playwright.async_api import BrowserContext, Page

from intercom.client import CallState
from intercom.media.audio import CountingAudioSink
from intercom.station.screen import ScreenState
from tests.media.helpers import until

from .conftest import Door, log_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]

DOOR_VIDEO_FRAMES = """() => {
    const v = document.getElementById('door-video');
    return v.videoWidth > 0 ? v.getVideoPlaybackQuality().totalVideoFrames : 0;
}"""


# The audio sender of the page's one peer connection with the door (null: no track yet).
PEER_AUDIO = """() => {
    const peers = Object.values(window.intercomApp.current().media.peers);
    if (peers.length !== 1 || !peers[0].audio) return 'no peer';
    const track = peers[0].audio.sender.track;
    return track ? (track.enabled ? 'enabled' : 'disabled') : null;
}"""
PEER_DTMF_SENDERS = "() => window.intercomApp.current().media.dtmfSenders().length"

# getUserMedia for audio held back until the test calls window.releaseMicrophone(): a
# resident who has not yet answered the browser's permission prompt.
HELD_MICROPHONE = """
    window.microphoneAsked = 0;
    const realGetUserMedia = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
    let release;
    const answered = new Promise(resolve => { release = resolve; });
    window.releaseMicrophone = () => release();
    navigator.mediaDevices.getUserMedia = constraints => {
        if (!constraints || !constraints.audio) return realGetUserMedia(constraints);
        window.microphoneAsked += 1;
        return answered.then(() => realGetUserMedia(constraints));
    };
"""

# getUserMedia for audio refused, as when the resident blocks the microphone.
REFUSED_MICROPHONE = """
    const realGetUserMedia = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
    navigator.mediaDevices.getUserMedia = constraints =>
        constraints && constraints.audio
            ? Promise.reject(new DOMException("Permission denied", "NotAllowedError"))
            : realGetUserMedia(constraints);
"""


async def frames_advance(page: Page, count: int = 10) -> int:
    """Wait until the door video shows ``count`` more frames; return the frame count."""
    before = await page.evaluate(DOOR_VIDEO_FRAMES)
    await page.wait_for_function(
        f"() => ({DOOR_VIDEO_FRAMES})() >= {before + count}", timeout=10_000
    )
    return int(await page.evaluate(DOOR_VIDEO_FRAMES))


async def call_state(page: Page, state: str) -> None:
    await page.wait_for_selector(f'#call-state[data-state="{state}"]', timeout=10_000)


async def test_answer_the_door_unlock_reply_hold_and_history(
    door: Door, context: BrowserContext
) -> None:
    # Granting replaces the context's permission set: the microphone and camera stay granted.
    await context.grant_permissions(["notifications", "microphone", "camera"])
    # Record the notifications the page shows (headless Chromium draws none).
    await context.add_init_script(
        """window.shown = []; const Real = window.Notification;
           window.Notification = class extends Real {
             constructor(title, options) { super(title, options); window.shown.push(title); } };"""
    )
    page = await context.new_page()
    await log_in(page, door.exchange.web_url, "201")
    assert await page.is_visible("#home")

    door.press_bell()
    await call_state(page, "RINGING")
    assert await page.text_content("#call-title") == "Front door"
    # Early media: the door's picture plays while it rings, before anyone answers.
    await frames_advance(page)
    assert await page.evaluate("document.getElementById('door-video').videoWidth") == 320
    assert await page.evaluate("document.body.dataset.ringing") == "1"  # the ringtone plays
    assert await page.evaluate("window.shown") == ["The door is ringing"]
    station_call = door.station.call
    assert station_call is not None and station_call.state is CallState.RINGING
    # The resident's (fake) microphone is attached but not heard while it rings.
    speaker = door.station.speaker
    assert isinstance(speaker, CountingAudioSink)
    await until(lambda: speaker.frames > 25)
    assert speaker.loud_frames == 0

    await page.click("#answer")
    await call_state(page, "IN_CALL")
    await door.station.wait_until(lambda: station_call.state is CallState.IN_CALL)
    assert await page.evaluate("document.body.dataset.ringing") is None
    await frames_advance(page)
    await until(lambda: speaker.loud_frames > 0)  # now the door hears the resident

    # Unlock: this login holds the door privilege, so the button sends the unlock command
    # (one signalling request), with no code and no RFC 4733 digits.
    assert not door.relay_active()
    await page.click("#unlock")
    await door.station.wait_until(door.relay_active)
    unlocks = door.events("unlock")
    assert len(unlocks) == 1 and unlocks[0]["how"] == "command"
    await page.wait_for_selector("#call-note:has-text('Door unlock sent.')")
    assert await page.is_hidden("#code-dialog")

    # The keypad sends single digits as RFC 4733 where negotiated; the resident's own camera
    # is shown and sent.
    await page.click("#keypad-toggle")
    await page.click('#keypad button[data-key="5"]')
    await page.wait_for_selector("#call-note:has-text('Sent 5')")
    assert await page.evaluate(PEER_DTMF_SENDERS) == 1
    await page.click("#camera")
    await page.wait_for_function(
        "() => document.getElementById('own-video').videoWidth > 0", timeout=10_000
    )
    assert await page.is_visible("#own-video")
    assert station_call.media is not None and station_call.media.first_video_at is None
    await until(lambda: station_call.media.first_video_at is not None)  # type: ignore[union-attr]

    # A quick reply is shown on the station's screen.
    await page.click('.reply[data-reply="I\'m coming"]')
    await door.station.wait_until(lambda: door.station.screen.text == "I'm coming")
    assert door.station.screen.state is ScreenState.MESSAGE
    await page.fill("#message-text", "Parcel for flat 3? Leave it with the concierge")
    await page.click("#send-message")
    await door.station.wait_until(lambda: door.station.screen.text.startswith("Parcel for flat 3?"))

    # Hold and resume change both sides.
    await page.click("#hold")
    await call_state(page, "HOLD")
    await door.station.wait_until(lambda: station_call.state is CallState.HOLD)
    assert await page.text_content("#hold") == "Resume"
    await page.click("#hold")
    await call_state(page, "IN_CALL")
    await door.station.wait_until(lambda: station_call.state is CallState.IN_CALL)
    await frames_advance(page)  # the picture comes back after the hold

    await page.click("#hangup")
    await door.station.wait_until(lambda: station_call.state is CallState.COMPLETED)
    await page.wait_for_selector("#home:not([hidden])", timeout=10_000)
    await page.wait_for_selector("#history tbody tr", timeout=10_000)
    first_row = await page.locator("#history tbody tr").first.all_text_contents()
    assert "Front door" in first_row[0] and "Answered" in first_row[0]


async def test_door_video_plays_while_the_microphone_prompt_is_unanswered(
    door: Door, context: BrowserContext
) -> None:
    await context.grant_permissions(["microphone", "camera"])
    await context.add_init_script(HELD_MICROPHONE)
    page = await context.new_page()
    await log_in(page, door.exchange.web_url, "201")

    door.press_bell()
    await call_state(page, "RINGING")
    # The prompt is open and stays so: the door's offer is answered anyway, and its picture
    # plays (with the old order, waiting on getUserMedia, no frame would ever come).
    await frames_advance(page)
    assert await page.evaluate("window.microphoneAsked") == 1
    assert await page.evaluate(PEER_AUDIO) is None  # answered with no microphone in it

    # The prompt is answered: the microphone goes into the same connection, gated while ringing.
    speaker = door.station.speaker
    assert isinstance(speaker, CountingAudioSink)
    heard_before = speaker.frames
    await page.evaluate("window.releaseMicrophone()")
    await page.wait_for_function(f"() => ({PEER_AUDIO})() === 'disabled'", timeout=10_000)
    await until(lambda: speaker.frames > heard_before + 25)
    assert speaker.loud_frames == 0
    await frames_advance(page)  # no renegotiation broke the picture

    station_call = door.station.call
    assert station_call is not None
    await page.click("#answer")
    await call_state(page, "IN_CALL")
    await door.station.wait_until(lambda: station_call.state is CallState.IN_CALL)
    assert await page.evaluate(PEER_AUDIO) == "enabled"
    await until(lambda: speaker.loud_frames > 0)  # the door hears the resident


@pytest.mark.parametrize("bell_target", ["203"])  # Flat 3: no door privilege
async def test_refused_microphone_and_unlock_with_the_code_over_signalling(
    door: Door, context: BrowserContext
) -> None:
    await context.grant_permissions(["camera"])
    await context.add_init_script(REFUSED_MICROPHONE)
    page = await context.new_page()
    await log_in(page, door.exchange.web_url, "203")

    door.press_bell()
    await call_state(page, "RINGING")
    await frames_advance(page)  # the picture plays without the microphone
    await page.wait_for_selector("#call-note:has-text('Microphone off: Permission denied')")

    station_call = door.station.call
    assert station_call is not None
    await page.click("#answer")
    await call_state(page, "IN_CALL")
    await door.station.wait_until(lambda: station_call.state is CallState.IN_CALL)
    await page.wait_for_selector("#call-note:has-text('Microphone off')")
    await frames_advance(page)

    # No door privilege: the button asks for the code and sends it in one signalling request.
    assert not door.relay_active()
    await page.click("#unlock")
    await page.fill("#code-input", "1234")
    await page.click("#code-send")
    await door.station.wait_until(door.relay_active)
    unlocks = door.events("unlock")
    assert len(unlocks) == 1 and unlocks[0]["how"] == "dtmf-signalling"
    await page.wait_for_selector("#call-note:has-text('Door code sent.')")


async def test_wrong_password_is_told_and_nothing_else_opens(
    door: Door, context: BrowserContext
) -> None:
    page = await context.new_page()
    await page.goto(door.exchange.web_url)
    await page.fill("#extension", "201")
    await page.fill("#password", "not-the-password")
    await page.click("#login-button")
    await page.wait_for_selector('#conn-state[data-state="ACCESS_DENIED"]', timeout=10_000)
    assert await page.text_content("#login-error") == "Wrong extension or password."
    assert await page.is_hidden("#home")
