"""Request bodies: read within a bound, chunked ones where the server de-chunks them, and never left half-read.

An app that answers before reading the body (401 from auth, 404, 405, 413, 400) leaves the body on the
connection. Servers then close the connection without saying so (granian), and the client's next request on
its kept-alive connection fails with a broken pipe, which urllib3 does not retry for a POST. So after every
answer the rest of the body is read and dropped, up to ``DRAIN_MAX_BYTES``, which leaves the connection at a
request boundary; past that bound, or when the body's end cannot be found (a Content-Length that is not a
number, chunks the server hands over undecoded), the answer says ``Connection: close`` (RFC 9110 section
9.6) and the client opens a new connection.
"""

from __future__ import annotations

import logging
from typing import Any

import falcon

from ..errors import BadRequest, LengthRequired, PayloadTooLarge

log = logging.getLogger("mockexchange_ccxt.web")

#: The largest body a route reads; a larger one is answered 413.
MAX_BODY_BYTES = 64 * 1024
#: How much of a body the app reads and drops after answering without it, to keep the connection usable.
DRAIN_MAX_BYTES = 1024 * 1024
_READ_SIZE = 64 * 1024


class Body:
    """The body of one request (WSGI environ), read at most once, with what is left tracked for ``drain``."""

    def __init__(self, env: dict[str, Any]) -> None:
        self._stream = env["wsgi.input"]
        chunked = "chunked" in env.get("HTTP_TRANSFER_ENCODING", "").lower()
        declared = (env.get("CONTENT_LENGTH") or "").strip()
        self.bad_length = bool(declared) and not (declared.isascii() and declared.isdigit())
        # Chunks are readable when the server de-chunks them and promises the stream ends with the body
        # (wsgi.input_terminated: granian, gunicorn); wsgiref hands them over raw.
        self.delimited = not self.bad_length and (not chunked or bool(env.get("wsgi.input_terminated")))
        # bytes left: a number, or None for "until the stream ends" (de-chunked); no length, no body
        self._left: int | None = None if chunked else int(declared or 0) if not self.bad_length else 0
        self._truncated = False

    def read(self) -> bytes:
        """The whole body (empty when there is none), or the error that says why it is not read."""
        if self.bad_length:
            raise BadRequest("the Content-Length header must be a number of bytes")
        if not self.delimited:
            raise LengthRequired("this server does not read chunked bodies: send a Content-Length")
        if self._left is not None and self._left > MAX_BODY_BYTES:
            raise PayloadTooLarge(f"body of {self._left} bytes is over the {MAX_BODY_BYTES}-byte limit")
        raw = self._take(MAX_BODY_BYTES + 1)
        if len(raw) > MAX_BODY_BYTES:
            raise PayloadTooLarge(f"body is over the {MAX_BODY_BYTES}-byte limit")
        return raw

    def drain(self) -> bool:
        """Read and drop what is left of the body, up to ``DRAIN_MAX_BYTES``; True when the connection is at a
        request boundary again (it may serve the next request)."""
        if not self.delimited or (self._left is not None and self._left > DRAIN_MAX_BYTES):
            return False  # its end is unknown, or too far to be worth reading: the connection closes
        try:
            dropped = 0
            while self._left != 0:
                dropped += len(self._take(_READ_SIZE))
                if dropped > DRAIN_MAX_BYTES:
                    return False
        except (OSError, ValueError) as exc:  # the client went away mid-body
            log.debug("could not drain a request body: %s", exc)
            return False
        return not self._truncated

    def _take(self, size: int) -> bytes:
        """Up to ``size`` bytes of the body: fewer only where it ends."""
        parts: list[bytes] = []
        wanted = size if self._left is None else min(size, self._left)
        while wanted > 0:
            data: bytes = self._stream.read(wanted)
            if not data:  # the stream ended: the end of de-chunked data, or a body shorter than declared
                self._truncated = self._left is not None
                self._left = 0
                break
            parts.append(data)
            wanted -= len(data)
            if self._left is not None:
                self._left -= len(data)
        return b"".join(parts)


class BodyKeeper:
    """Falcon middleware, first in, last out: gives each request its ``Body``, and after the answer (whatever
    answered it, auth and routing errors included) drains what is left of the body, or says
    ``Connection: close``. The REST API and the Binance dialect both use it."""

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        req.context.body = Body(req.env)

    def process_response(self, req: falcon.Request, resp: falcon.Response, resource: Any, ok: bool) -> None:
        body: Body | None = getattr(req.context, "body", None)
        if body is not None and not body.drain() and not _closes_every_connection(req.env):
            resp.set_header("Connection", "close")


def _closes_every_connection(env: dict[str, Any]) -> bool:
    """wsgiref answers HTTP/1.0 and closes every connection, and refuses a hop-by-hop header from the app."""
    return str(env.get("SERVER_SOFTWARE", "")).startswith("WSGIServer/")
