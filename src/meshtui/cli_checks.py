"""Every command-line value checked before anything starts: one line and exit 2 when wrong.

argparse's own error prints the usage block and then the message; here a bad value
is one line (`meshtui: argument --interval: ...`), as every other error of meshtui.
"""

from __future__ import annotations

import argparse
import math
import sys
import urllib.parse
from typing import Any, NoReturn


class OneLineParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # the subcommand's own help (`meshtui stats --help`): its flags are there
        print(f"meshtui: {message} ({self.prog} --help)", file=sys.stderr)
        sys.exit(2)

    def parse_args(self, args: Any = None, namespace: Any = None) -> Any:
        # argparse reports a subcommand's unknown flag from the top parser: point to the
        # subcommand's help, where the flags it has are listed
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            command = getattr(parsed, "command", None)
            prog = f"{self.prog} {command}" if command else self.prog
            print(f"meshtui: unrecognized arguments: {' '.join(extras)} ({prog} --help)", file=sys.stderr)
            sys.exit(2)
        return parsed


def _finite(text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a number of {what}: {text!r}") from exc
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"not a finite number of {what}: {text!r}")
    return value


def positive_interval(text: str) -> float:
    value = _finite(text, "seconds")
    if value < 0.2:
        raise argparse.ArgumentTypeError(f"the refresh interval is at least 0.2 s, not {text}")
    return value


def positive_rate(text: str) -> float:
    value = _finite(text, "requests per second")
    if value <= 0:
        raise argparse.ArgumentTypeError(f"the load rate is above 0 requests per second, not {text}")
    return value


def load_loop_rate(text: str) -> float:
    """The demo's own load loop: 0 runs none (your `meshtui load` is then the only traffic)."""
    value = _finite(text, "requests per second")
    if value < 0:
        raise argparse.ArgumentTypeError(f"the load loop's rate is 0 (none) or more, not {text}")
    return value


def percent(text: str) -> float:
    value = _finite(text, "percent")
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError("sampling is a percentage, 0 to 100")
    return value


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from exc
    if value <= 0:
        raise argparse.ArgumentTypeError(f"at least 1, not {text}")
    return value


def http_url(text: str) -> str:
    """An http(s) URL; `host:port` alone is taken as `http://host:port` (Envoy admin is plain HTTP)."""
    url = text.strip()
    if url and "://" not in url:
        url = "http://" + url
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port  # raises on a port that is not a number or out of range
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a URL: {text!r} ({exc})") from exc
    if parts.scheme not in ("http", "https"):
        raise argparse.ArgumentTypeError(f"not an http:// or https:// URL: {text!r}")
    if not parts.hostname:
        raise argparse.ArgumentTypeError(f"no host in {text!r} (http://HOST:PORT)")
    del port
    return url.rstrip("/")


def check_sources(args: argparse.Namespace) -> str | None:
    """A headless command reads one source: --file, POD, or --admin. None when fine."""
    given = [
        name
        for name, on in (
            ("--file", getattr(args, "file", None)),
            ("a pod", getattr(args, "pod", None)),
            ("--admin", getattr(args, "admin", None)),
        )
        if on
    ]
    if len(given) > 1:
        return f"{args.command} reads one source: {' and '.join(given)} given together"
    return None
