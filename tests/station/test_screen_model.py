"""The screen model's two layers: a notice gives way to what is true when it runs out."""

from __future__ import annotations

from intercom.station.screen import ScreenModel, ScreenState, Shown


def test_a_notice_up_as_the_call_ends_gives_way_to_the_greeting() -> None:
    screen = ScreenModel(greeting="Welcome")
    screen.show(ScreenState.IN_CALL, "Flat 1")
    screen.show(ScreenState.DOOR_OPEN, "Door open", "Please push", seconds=5)
    screen.call_over()
    assert screen.shown() == Shown(ScreenState.DOOR_OPEN, "Door open", "Please push")  # stays
    assert screen.expire(screen.since + 6)
    assert screen.shown() == Shown(ScreenState.IDLE, "Welcome", "")  # not the call
    assert screen.until is None and not screen.expire(screen.since + 60)


def test_an_end_notice_over_the_ringing_screen_gives_way_to_the_greeting() -> None:
    screen = ScreenModel(greeting="Welcome")
    screen.show(ScreenState.CALLING, "Calling Flat 1...")
    screen.show(ScreenState.NOTICE, "No answer", seconds=2)
    screen.call_over()
    assert screen.expire(screen.since + 3) and screen.state is ScreenState.IDLE


def test_the_warning_before_the_end_goes_with_the_call() -> None:
    screen = ScreenModel(greeting="Welcome")
    screen.show(ScreenState.IN_CALL, "Flat 1")
    screen.show(ScreenState.NOTICE, "Call ends soon", "9 s left", seconds=9, ends_with_call=True)
    screen.call_over()
    assert screen.shown() == Shown(ScreenState.IDLE, "Welcome", "") and screen.until is None


def test_a_notice_during_the_call_gives_way_to_the_call() -> None:
    screen = ScreenModel(greeting="Welcome")
    screen.show(ScreenState.IN_CALL, "Flat 1")
    screen.show(ScreenState.NOTICE, "Wrong code", seconds=5)
    screen.show(ScreenState.MESSAGE, "Message", "Coming", seconds=30)  # one notice after another
    assert not screen.expire(screen.since + 29)
    assert screen.expire(screen.since + 31)
    assert screen.shown() == Shown(ScreenState.IN_CALL, "Flat 1", "")


def test_a_new_greeting_under_a_notice_is_the_one_shown_after_it() -> None:
    screen = ScreenModel(greeting="Welcome")
    screen.idle()
    screen.show(ScreenState.NOTICE, "Offline", "Please try again later", seconds=10)
    screen.set_greeting("Bienvenue")
    assert screen.title == "Offline"
    assert screen.expire(screen.since + 11) and screen.title == "Bienvenue"
