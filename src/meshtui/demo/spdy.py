"""SPDY/3.1 framing, the server's half, for what kubectl's port-forward speaks.

kubectl 1.31+ tunnels SPDY inside a websocket (subprotocol `SPDY/3.1+portforward.k8s.io`,
client-go tools/portforward tunneling_dialer.go: every websocket binary message is a slice
of one SPDY byte stream), and before that spoke SPDY over an HTTP upgrade. Its SPDY side is
moby/spdystream, which needs from a server: SYN_REPLY to each SYN_STREAM, DATA frames with
FIN for half-closes, PING echoed, GOAWAY and RST_STREAM understood. spdystream does no flow
control, so WINDOW_UPDATE and SETTINGS are read and ignored (as it does).

Frames follow the SPDY/3 draft (draft-mbelshe-httpbis-spdy-00 section 2.2): a control frame
is `1 | version(15) | type(16) | flags(8) | length(24) | data`, a data frame
`0 | stream-id(31) | flags(8) | length(24) | data`. Name/value header blocks are zlib
streams, one per direction per connection, primed with the spec's dictionary (section
2.6.10.1), written below as the spec lists it: length-prefixed words, then a tail.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field

VERSION = 3
SYN_STREAM, SYN_REPLY, RST_STREAM, SETTINGS, PING, GOAWAY, HEADERS, WINDOW_UPDATE = 1, 2, 3, 4, 6, 7, 8, 9
FLAG_FIN = 0x01
CANCEL = 5  # RST_STREAM status

_WORDS = [
    "options",
    "head",
    "post",
    "put",
    "delete",
    "trace",
    "accept",
    "accept-charset",
    "accept-encoding",
    "accept-language",
    "accept-ranges",
    "age",
    "allow",
    "authorization",
    "cache-control",
    "connection",
    "content-base",
    "content-encoding",
    "content-language",
    "content-length",
    "content-location",
    "content-md5",
    "content-range",
    "content-type",
    "date",
    "etag",
    "expect",
    "expires",
    "from",
    "host",
    "if-match",
    "if-modified-since",
    "if-none-match",
    "if-range",
    "if-unmodified-since",
    "last-modified",
    "location",
    "max-forwards",
    "pragma",
    "proxy-authenticate",
    "proxy-authorization",
    "range",
    "referer",
    "retry-after",
    "server",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "user-agent",
    "vary",
    "via",
    "warning",
    "www-authenticate",
    "method",
    "get",
    "status",
    "200 OK",
    "version",
    "HTTP/1.1",
    "url",
    "public",
    "set-cookie",
    "keep-alive",
    "origin",
]
_TAIL = (
    "100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505"
    "203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 "
    "Unauthorized403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented503 "
    "Service UnavailableJan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, "
    "Wed, Thu, Fri, Sat, Sun, GMTchunked,text/html,image/png,image/jpg,image/gif,"
    "application/xml,application/xhtml+xml,text/plain,text/javascript,publicprivatemax-age="
    "gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0."
)
DICTIONARY = b"".join(len(w).to_bytes(4, "big") + w.encode() for w in _WORDS) + _TAIL.encode()
DICTIONARY_ID = 0xE3C6A7C2  # its adler32, which a zlib stream names it by (tests check it)


@dataclass
class Frame:
    control: bool
    kind: int  # control frame type, or 0 for data
    flags: int
    stream: int  # the stream id (data, SYN_*, RST_STREAM, WINDOW_UPDATE), the id of a PING
    data: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def fin(self) -> bool:
        return bool(self.flags & FLAG_FIN)


class Framer:
    """Frames out of a byte stream, and frames into bytes, for one connection."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._inflate = zlib.decompressobj(zdict=DICTIONARY)
        self._deflate = zlib.compressobj(zlib.Z_BEST_COMPRESSION, zdict=DICTIONARY)

    def feed(self, data: bytes) -> list[Frame]:
        """The whole frames `data` completes (a frame may span websocket messages)."""
        self._buffer += data
        frames = []
        while len(self._buffer) >= 8:
            length = int.from_bytes(self._buffer[5:8], "big")
            if len(self._buffer) < 8 + length:
                break
            head, body = bytes(self._buffer[:8]), bytes(self._buffer[8 : 8 + length])
            del self._buffer[: 8 + length]
            frames.append(self._parse(head, body))
        return frames

    def _parse(self, head: bytes, body: bytes) -> Frame:
        flags = head[4]
        if not head[0] & 0x80:
            return Frame(False, 0, flags, int.from_bytes(head[:4], "big") & 0x7FFFFFFF, body)
        kind = int.from_bytes(head[2:4], "big")
        if kind == SYN_STREAM:
            stream = int.from_bytes(body[:4], "big") & 0x7FFFFFFF
            return Frame(True, kind, flags, stream, headers=self._headers(body[10:]))
        if kind in (SYN_REPLY, HEADERS):
            stream = int.from_bytes(body[:4], "big") & 0x7FFFFFFF
            return Frame(True, kind, flags, stream, headers=self._headers(body[4:]))
        ident = int.from_bytes(body[:4], "big") & 0x7FFFFFFF if len(body) >= 4 else 0
        return Frame(True, kind, flags, ident, body[4:])

    def _headers(self, block: bytes) -> dict[str, str]:
        raw = self._inflate.decompress(block)
        (count,) = struct.unpack_from(">I", raw, 0)
        offset, headers = 4, {}
        for _ in range(count):
            (n,) = struct.unpack_from(">I", raw, offset)
            name = raw[offset + 4 : offset + 4 + n].decode()
            offset += 4 + n
            (n,) = struct.unpack_from(">I", raw, offset)
            headers[name] = raw[offset + 4 : offset + 4 + n].decode()
            offset += 4 + n
        return headers

    @staticmethod
    def _control(kind: int, flags: int, body: bytes) -> bytes:
        return struct.pack(">HHI", 0x8000 | VERSION, kind, flags << 24 | len(body)) + body

    def syn_reply(self, stream: int, headers: dict[str, str] | None = None) -> bytes:
        pairs = list((headers or {}).items())
        block = struct.pack(">I", len(pairs)) + b"".join(
            struct.pack(">I", len(k)) + k.encode() + struct.pack(">I", len(v)) + v.encode() for k, v in pairs
        )
        compressed = self._deflate.compress(block) + self._deflate.flush(zlib.Z_SYNC_FLUSH)
        return self._control(SYN_REPLY, 0, struct.pack(">I", stream) + compressed)

    @staticmethod
    def data(stream: int, payload: bytes, fin: bool = False) -> bytes:
        return struct.pack(">II", stream, (FLAG_FIN if fin else 0) << 24 | len(payload)) + payload

    @classmethod
    def ping(cls, ident: int) -> bytes:
        return cls._control(PING, 0, struct.pack(">I", ident))

    @classmethod
    def rst_stream(cls, stream: int, status: int = CANCEL) -> bytes:
        return cls._control(RST_STREAM, 0, struct.pack(">II", stream, status))

    @classmethod
    def goaway(cls, last_stream: int) -> bytes:
        return cls._control(GOAWAY, 0, struct.pack(">II", last_stream, 0))
