"""`meshtui traces` and `meshtui trace` on saved Jaeger answers: every span, its parent,
offset and duration; bad input is one line on stderr and exit 2."""

from __future__ import annotations

import json

import pytest

from meshtui.cli import main

UI_TRACE = "upstream/jaeger-analytics-java/ui-trace.json"
FOLLOWS = "upstream/jaeger-ui/2992f2a5b5d037a8aabffd08ef384237.json"


def test_traces_file_json_lists_every_span_with_parent_offset_duration(fixtures, capsys):
    assert main(["traces", "--file", str(fixtures / UI_TRACE), "--json"]) == 0
    (trace,) = json.loads(capsys.readouterr().out)
    assert trace["traceID"] == "2db17286b3e6b148" and trace["spanCount"] == 2
    assert trace["rootService"] == "jaeger-query" and trace["durationUs"] == 4199
    spans = {s["spanID"]: s for s in trace["spans"]}
    root, child = spans["2db17286b3e6b148"], spans["ec2b4e0bcea566d"]
    assert (root["parentSpanID"], root["offsetUs"], root["durationUs"]) == (None, 0, 4199)
    assert (child["parentSpanID"], child["refType"], child["offsetUs"], child["durationUs"]) == (
        "2db17286b3e6b148",
        "CHILD_OF",
        55,
        3873,
    )


def test_traces_file_table(fixtures, capsys):
    assert main(["traces", "--file", str(fixtures / UI_TRACE)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:4] == ["TRACE", "ID", "START", "DURATION"]
    assert "2db17286b3e6b148" in out[1] and "4.20ms" in out[1] and "jaeger-query(2)" in out[1]


def test_trace_file_waterfall_shows_follows_from(fixtures, capsys):
    assert main(["trace", "--file", str(fixtures / FOLLOWS)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("trace 2992f2a5b5d037a8aabffd08ef384237") and "70.41ms" in lines[0]
    root, thread = lines[2], lines[3]
    assert root.split() == ["0µs", "70.41ms", "issue115:", "demo", "[ea7cfaca83f0724b]"]
    # indented one level below its FOLLOWS_FROM parent, 50.27 ms into the trace
    assert thread.index("issue115: thread") == root.index("issue115: demo") + 2
    assert thread.split()[:2] == ["50.27ms", "1.17ms"] and "(follows from ea7cfaca83f0724b)" in thread


def test_trace_file_json_and_v3(fixtures, capsys):
    assert main(["trace", "--file", str(fixtures / FOLLOWS), "--json"]) == 0
    (trace,) = json.loads(capsys.readouterr().out)
    thread = next(s for s in trace["spans"] if s["operation"] == "thread")
    assert (thread["parentSpanID"], thread["refType"], thread["offsetUs"], thread["durationUs"]) == (
        "ea7cfaca83f0724b",
        "FOLLOWS_FROM",
        50271,
        1173,
    )
    assert main(["trace", "--file", str(fixtures / "upstream/jaeger-v3/GetTrace.json")]) == 0
    assert "foobar [00000000000000b4] !error" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "content"),
    [
        (["traces", "--file"], '{"data": [{"spans": 3}]}'),
        (["trace", "--file"], "<html>not json</html>"),
        (["trace", "--file"], '{"data": null, "errors": [{"code": 404, "msg": "trace not found"}]}'),
        (["traces", "--file"], '{"result": {"resourceSpans": [{"scopeSpans": [{"spans": [{}]}]}]}}'),
    ],
)
def test_malformed_input_is_one_line_and_exit_2(tmp_path, capsys, argv, content):
    path = tmp_path / "body.json"
    path.write_text(content)
    assert main([*argv, str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and len(captured.err.strip().splitlines()) == 1
    assert captured.err.startswith("meshtui: ")


def test_missing_file_and_missing_arguments(tmp_path, capsys):
    assert main(["trace", "--file", str(tmp_path / "nope.json")]) == 2
    assert "cannot read" in capsys.readouterr().err
    assert main(["traces"]) == 2
    assert "--service" in capsys.readouterr().err
    assert (
        main(["traces", "--service", "webapp", "--lookback", "soon", "--jaeger-url", "http://127.0.0.1:9"])
        == 2
    )
    assert "lookback" in capsys.readouterr().err
