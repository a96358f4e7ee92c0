"""A real SMTP server on loopback for cabot's email tests (aiosmtpd).

    smtp_server.py --out DIR [--host 127.0.0.1|::1] [--port N] [--mode plain|starttls|implicit]
                   [--cert PEM --key PEM] [--auth USER:PASSWORD]

Prints the port it listens on as its first line of stdout, then serves until its
stdin closes (the test that started it is gone) or it is killed.

Each accepted message N is saved as DIR/N.eml (the raw data, as received) and then
DIR/N.json (envelope sender and recipients, whether TLS was on, who logged in).
Every AUTH attempt is appended to DIR/auth.log as `ok USER` or `failed USER`.
starttls refuses mail before STARTTLS; with --auth, mail before a good AUTH is refused.
"""

import argparse
import asyncio
import json
import logging
import os
import ssl
import sys
import warnings

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

# The test server may take AUTH before TLS in plain mode; aiosmtpd warns about that.
warnings.simplefilter("ignore")
logging.getLogger("mail.log").setLevel(logging.ERROR)

# Never outlive a forgotten test by more than this.
MAX_LIFETIME = 600


class Recorder:
    def __init__(self, out, auth):
        self.out = out
        self.auth = auth
        self.count = 0

    def authenticate(self, server, session, envelope, mechanism, data):
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = data.login.decode("utf-8", "replace")
        password = data.password.decode("utf-8", "replace")
        ok = self.auth is not None and (login, password) == self.auth
        with open(os.path.join(self.out, "auth.log"), "a") as f:
            f.write(f"{'ok' if ok else 'failed'} {login}\n")
        if ok:
            return AuthResult(success=True, auth_data=login)
        return AuthResult(success=False, handled=False)

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        n = self.count
        tls = session.ssl is not None or (
            server.transport is not None
            and server.transport.get_extra_info("ssl_object") is not None
        )
        meta = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "tls": tls,
            "login": session.auth_data if session.authenticated else None,
        }
        # The .json appears last, and whole: a test that sees it can read both.
        for name, data in ((f"{n}.eml", envelope.original_content),
                           (f"{n}.json", json.dumps(meta).encode())):
            path = os.path.join(self.out, name)
            with open(path + ".tmp", "wb") as f:
                f.write(data)
            os.rename(path + ".tmp", path)
        return f"250 2.0.0 Ok: queued as test-{n}"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--out", required=True)
    p.add_argument("--host", choices=["127.0.0.1", "::1"], default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--mode", choices=["plain", "starttls", "implicit"], default="plain")
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--auth", help="USER:PASSWORD that AUTH must present")
    args = p.parse_args()

    context = None
    if args.mode != "plain":
        if not (args.cert and args.key):
            p.error(f"--mode {args.mode} needs --cert and --key")
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.cert, args.key)
    auth = tuple(args.auth.split(":", 1)) if args.auth else None
    recorder = Recorder(args.out, auth)

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)

    def factory():
        return SMTP(
            recorder,
            hostname="cabot-test-smtp",
            loop=loop,
            tls_context=context if args.mode == "starttls" else None,
            require_starttls=args.mode == "starttls",
            authenticator=recorder.authenticate,
            auth_required=auth is not None,
            # Loopback only; implicit TLS is invisible to aiosmtpd's own check.
            auth_require_tls=False,
        )

    server = loop.run_until_complete(
        loop.create_server(
            factory,
            host=args.host,
            port=args.port,
            ssl=context if args.mode == "implicit" else None,
        )
    )
    print(server.sockets[0].getsockname()[1], flush=True)

    def stdin_readable():
        if not os.read(sys.stdin.fileno(), 4096):
            loop.stop()

    loop.add_reader(sys.stdin.fileno(), stdin_readable)
    loop.call_later(MAX_LIFETIME, loop.stop)
    loop.run_forever()


if __name__ == "__main__":
    main()
