"""Media for calls: aiortc peer connections, cameras, audio, displays and DTMF."""
