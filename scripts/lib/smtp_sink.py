"""A local SMTP server for the tests (scripts/smtp-sink): it accepts every
message for anyone and writes each one, as the raw RFC 5322 bytes it
received, to DIR/<seq>.eml. A file appears whole or not at all: it is written
under a temporary name and renamed.

    python smtp_sink.py DIR PORT
"""

import asyncio
import itertools
import os
import signal
import sys

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, directory):
        self.directory = directory
        existing = [int(n[:-4]) for n in os.listdir(directory) if n.endswith(".eml") and n[:-4].isdigit()]
        self.seq = itertools.count(max(existing, default=0) + 1)

    async def handle_DATA(self, server, session, envelope):
        n = next(self.seq)
        final = os.path.join(self.directory, f"{n}.eml")
        temporary = os.path.join(self.directory, f".{n}.eml.tmp")
        with open(temporary, "wb") as f:
            f.write(envelope.original_content)
            f.flush()
            os.fsync(f.fileno())
        os.rename(temporary, final)
        return "250 Message accepted for delivery"


def main():
    directory, port = sys.argv[1], int(sys.argv[2])
    os.makedirs(directory, exist_ok=True)
    controller = Controller(Sink(directory), hostname="127.0.0.1", port=port, enable_SMTPUTF8=True)
    controller.start()  # returns once the server accepts connections
    stop = asyncio.Event()
    loop = asyncio.new_event_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        loop.run_until_complete(stop.wait())
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
