"""A local mail server for the notice tests (issue 5): aiosmtpd on 127.0.0.1 with STARTTLS
required, so the client's "TLS required" is tested for real. Every accepted e-mail is
written to OUT as <n>.eml (the bytes as received) with the envelope's recipients on the
first line of <n>.rcpt. A recipient at the domain `avvist.example` is refused with 550
(a permanent failure: a bounce). Prints "ready" when it listens; stops on SIGTERM or when
its standard input closes.

    python smtp_sink.py --port 2525 --cert cert.pem --key key.pem --out DIR
"""

import argparse
import pathlib
import signal
import ssl
import sys
import threading

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, out: pathlib.Path):
        self.out = out
        self.count = 0
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower().endswith("@avvist.example"):
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.count += 1
            n = self.count
        content = envelope.original_content or envelope.content
        (self.out / f"{n}.rcpt").write_text(",".join(envelope.rcpt_tos) + "\n")
        (self.out / f"{n}.eml").write_bytes(content)
        return "250 Message accepted for delivery"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(args.cert, args.key)
    controller = Controller(
        Sink(out),
        hostname="127.0.0.1",
        port=args.port,
        tls_context=context,
        require_starttls=True,
    )
    controller.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    print("ready", flush=True)
    stop.wait()
    controller.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
