"""`meshtui events`: the mesh's timeline for `--duration` seconds, one JSON object per line
per entry as it happens (keys time, kind, object, summary, detail), or one text line
each; `--record DIR` appends the same lines to DIR/events-YYYY-MM-DD.jsonl."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys

from meshtui.events.model import MeshEvent, iso
from meshtui.headless import CommandError


def text_line(e: MeshEvent) -> str:
    return f"{iso(e.time)}  {e.kind:<16} {e.object:<48} {e.summary}"


async def _run(args: argparse.Namespace) -> None:
    from meshtui.events.record import Record
    from meshtui.events.recorder import Recorder
    from meshtui.headless import cluster
    from meshtui.istiod.live import IstiodFeed
    from meshtui.istiod.source import ForwardedIstiod

    record = Record(args.record) if args.record else None

    def emit(event: MeshEvent) -> None:
        print(event.json_line() if args.json else text_line(event), flush=True)
        if record is not None:
            record.append(event)

    async with cluster(args) as (target, manager):
        istiod = IstiodFeed(ForwardedIstiod(target, manager, args.istio_namespace), args.interval)
        recorder = Recorder(target, emit, istiod=istiod, manager=manager)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(recorder.run(), timeout=args.duration)
    if record is not None:
        record.close()


def events_command(args: argparse.Namespace) -> int:
    from meshtui.kube.config import KubeError

    try:
        asyncio.run(_run(args))
    except (KubeError, OSError) as exc:
        raise CommandError(str(exc)) from exc
    except KeyboardInterrupt:
        print("", file=sys.stderr)
    return 0
