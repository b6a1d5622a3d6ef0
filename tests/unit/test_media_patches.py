"""intercom.media.patches: checked before applied, and applied once however often installed."""

from __future__ import annotations

import types
from typing import Any

import aioice
import aioice.ice
import aiortc
import pytest
from aiortc import RTCPeerConnection, RTCRtpReceiver, RTCRtpSender
from aiortc.codecs import CODECS

from intercom.media import patches

#: every function install() wraps, by its owner and attribute name
WRAPPED: list[tuple[type, str]] = [
    (RTCRtpSender, "_send_keyframe"),
    (RTCRtpReceiver, "_handle_rtp_packet"),
    (RTCRtpReceiver, "__init__"),
    (RTCPeerConnection, "_RTCPeerConnection__connect"),
    (aioice.ice.Connection, "query_consent"),
]


@pytest.fixture
def originals(monkeypatch: pytest.MonkeyPatch) -> dict[tuple[type, str], Any]:
    """aiortc and aioice as they ship, for this test only: each wrapper another test installed
    is replaced by its original (monkeypatch puts it back afterwards), and install() has not
    run yet."""
    found: dict[tuple[type, str], Any] = {}
    for owner, name in WRAPPED:
        function = getattr(owner, name)
        while patches.is_patched(function):
            function = function.__wrapped__
        monkeypatch.setattr(owner, name, function)
        found[owner, name] = function
    monkeypatch.setattr(patches, "_installed", False)
    return found


def telephone_events() -> int:
    return sum(c.mimeType == patches.TELEPHONE_EVENT for c in CODECS["audio"])


def assert_wrapped_once(originals: dict[tuple[type, str], Any]) -> None:
    for (owner, name), original in originals.items():
        function = getattr(owner, name)
        assert patches.is_patched(function), f"{owner.__name__}.{name} is not patched"
        assert function.__wrapped__ is original, f"{owner.__name__}.{name} is wrapped twice"


def keyframe_requests_per_pli() -> int:
    """How often one PLI reaches a passthrough source behind a relay (1 when patched once)."""

    class Source:
        requests = 0

        def request_keyframe(self) -> None:
            Source.requests += 1

    sender = RTCRtpSender.__new__(RTCRtpSender)
    sender._RTCRtpSender__force_keyframe = False  # type: ignore[attr-defined]
    sender._RTCRtpSender__track = types.SimpleNamespace(kind="video", _source=Source())  # type: ignore[attr-defined]
    sender._send_keyframe()
    return Source.requests


def test_installing_again_wraps_each_function_once(
    originals: dict[tuple[type, str], Any],
) -> None:
    patches.install()
    patches.install()
    # Past the fast path too: each wrapper recognises itself, not just the module's flag.
    patches._installed = False
    patches.install()
    assert_wrapped_once(originals)
    assert telephone_events() == len(patches.TELEPHONE_EVENT_PTS)
    assert keyframe_requests_per_pli() == 1


@pytest.mark.parametrize("library", [aioice, aiortc])
def test_an_unsupported_version_is_refused_before_anything_is_patched(
    originals: dict[tuple[type, str], Any],
    monkeypatch: pytest.MonkeyPatch,
    library: types.ModuleType,
) -> None:
    codecs_before = list(CODECS["audio"])
    supported = library.__version__
    monkeypatch.setattr(library, "__version__", "99.0.0")
    with pytest.raises(RuntimeError, match=library.__name__):
        patches.install()
    for (owner, name), original in originals.items():
        assert getattr(owner, name) is original, f"{owner.__name__}.{name} was patched"
    assert CODECS["audio"] == codecs_before

    # The retry, once the right version is there, patches everything exactly once.
    monkeypatch.setattr(library, "__version__", supported)
    patches.install()
    assert_wrapped_once(originals)
    assert keyframe_requests_per_pli() == 1
