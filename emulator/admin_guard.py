"""Who may use the admin API under `/_emulator/` (reset, clock, rollover, sweeps, ...).

The emulator listens on loopback by default, but any web page the developer opens can
still reach it: a cross-site `POST` of a form or `text/plain` body needs no permission
from the browser, and DNS rebinding makes an attacker's name resolve to 127.0.0.1 so the
page's own origin is the emulator. So, for every admin request except the health probe:

- `--admin off` turns the admin API off (404);
- the `Host` header must name the emulator: an IP address, `localhost` (or a
  `*.localhost` name), a single-label name (a compose service, a machine name), a name
  under `.internal` or `.local`, the `--host` it listens on, or one of `--admin-hosts`
  (a name; `.example.org` for every name under a domain; `*` for any). A rebinding
  page's Host is the attacker's public name (403);
- with `--admin-token`, `Authorization: Bearer <token>` must carry it (401), except on
  the console's static files (`GET /_emulator/console`, `.../console/static/*`: no data,
  and a browser cannot send a token when it opens a page; the page asks for the token
  and sends it with every request it makes);
- a `POST` must say `Content-Type: application/json` (415): a cross-site page cannot send
  that without a CORS preflight, which the emulator never approves.

The AWS surface (`POST /`) is not checked here: SDKs send their own Host, and
`--auth sigv4` is the way to require credentials there.
"""

from __future__ import annotations

import hmac
import ipaddress

from starlette.types import Scope

from emulator.config import Config

HEALTH_PATH = "/_emulator/health"
CONSOLE_PAGES = ("/_emulator/console", "/_emulator/console/")
CONSOLE_STATIC = "/_emulator/console/static/"
#: Name suffixes no public DNS answers for, so no rebinding page can carry them.
PRIVATE_SUFFIXES = (".localhost", ".internal", ".local")


class AdminGuard:
    __slots__ = ("_extra_hosts", "_extra_suffixes", "_listen_host", "_token", "enabled")

    def __init__(self, config: Config) -> None:
        self.enabled = config.admin == "on"
        self._token = config.admin_token.encode() if config.admin_token else None
        self._listen_host = normalise_host(config.host)
        names = [normalise_host(name) for name in config.admin_hosts.split(",") if name.strip()]
        self._extra_hosts = frozenset(name for name in names if not name.startswith("."))
        #: `.example.org` entries: any name under that domain.
        self._extra_suffixes = tuple(name for name in names if name.startswith("."))

    def refusal(self, scope: Scope) -> tuple[int, str, list[tuple[bytes, bytes]]] | None:
        """(status, message, extra headers) to answer instead of the admin route, or None
        when the request may go on."""
        method = scope["method"]
        if scope["path"] == HEALTH_PATH and method in ("GET", "HEAD"):
            return None
        if not self.enabled:
            return 404, "the admin API is off (--admin off)", []
        headers = dict(scope["headers"])
        host = host_name(headers.get(b"host", b"").decode("latin-1"))
        if not self.host_allowed(host):
            return (
                403,
                f"Host {host!r} is not allowed to use the admin API; allow it with --admin-hosts",
                [],
            )
        if self._token is not None and not _console_file(scope):
            given = headers.get(b"authorization", b"")
            if not hmac.compare_digest(given, b"Bearer " + self._token):
                return (
                    401,
                    "the admin API needs 'Authorization: Bearer <token>' (--admin-token)",
                    [(b"www-authenticate", b'Bearer realm="ddb-emulator admin"')],
                )
        if method == "POST":
            content_type = headers.get(b"content-type", b"").decode("latin-1")
            if content_type.partition(";")[0].strip().lower() != "application/json":
                return 415, "admin requests need 'Content-Type: application/json'", []
        return None

    def host_allowed(self, host: str) -> bool:
        if not host or "*" in self._extra_hosts:
            return True  # no Host header: HTTP/1.0, never a browser
        try:
            ipaddress.ip_address(host)
        except ValueError:
            pass
        else:
            return True
        return (
            host == "localhost"
            or "." not in host
            or host.endswith(PRIVATE_SUFFIXES)
            or host == self._listen_host
            or host in self._extra_hosts
            or (bool(self._extra_suffixes) and host.endswith(self._extra_suffixes))
        )


def _console_file(scope: Scope) -> bool:
    path = scope["path"]
    return scope["method"] in ("GET", "HEAD") and (
        path in CONSOLE_PAGES or path.startswith(CONSOLE_STATIC)
    )


def host_name(header: str) -> str:
    """The host of a Host header: no port, no IPv6 brackets, lower case."""
    header = header.strip()
    if header.startswith("["):
        return header[1:].partition("]")[0].lower()
    name, colon, port = header.rpartition(":")
    if colon and port.isdigit():
        header = name
    return normalise_host(header)


def normalise_host(name: str) -> str:
    return name.strip().lower().rstrip(".")
