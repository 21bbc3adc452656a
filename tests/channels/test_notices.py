"""Notices by e-mail: a local SMTP receiver (a few lines of the protocol on loopback) gets
the notice of an escalation, with its metadata and nothing else."""

from __future__ import annotations

import socketserver
import threading
from typing import ClassVar

from detente.channels.hotlines import Notice
from detente.channels.live import ChannelSettings, Notifier


class _Smtp(socketserver.StreamRequestHandler):
    mails: ClassVar[list[str]] = []

    def _say(self, line: str) -> None:
        self.wfile.write((line + "\r\n").encode())

    def handle(self) -> None:
        self._say("220 test ESMTP")
        while line := self.rfile.readline().decode():
            verb = line[:4].upper()
            if verb == "DATA":
                self._say("354 go on")
                body = []
                while (part := self.rfile.readline().decode()) not in (".\r\n", ""):
                    body.append(part)
                _Smtp.mails.append("".join(body))
                self._say("250 queued")
            elif verb == "QUIT":
                self._say("221 bye")
                return
            else:
                self._say("250 ok")


def test_an_escalation_is_mailed_with_metadata_only() -> None:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Smtp)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Smtp.mails = []
    try:
        settings = ChannelSettings(
            smtp_host="127.0.0.1", smtp_port=server.server_address[1], smtp_to="duty@mod.test"
        )
        notice = Notice(
            "escalation", "London-Paris hotline", "m-1", 1, ("fra-vetting",), {"late_seconds": 0.4}
        )
        Notifier(settings).send([notice])
    finally:
        server.shutdown()
        server.server_close()
    (mail,) = _Smtp.mails
    assert "Subject: [detente] escalation on London-Paris hotline (step 1)" in mail
    assert "To: duty@mod.test" in mail and '"fra-vetting"' in mail and '"late_seconds": 0.4' in mail
