"""The audio sub-commands through ``assist.cli.main``: replay, devices, model, config."""
from __future__ import annotations

import json
import re

import pytest

from assist.cli import main
from assist.config import ConfigError, UserConfig, config_path, load_config, save_config

HANGUL = re.compile(r"[\uac00-\ud7a3]")


def test_replay_json_no_store(speech, ko_model_path, ko_model, capsys):
    code = main(["replay", str(speech["stereo"]), "--speed", "max", "--no-store", "--json",
                 "--model", str(ko_model_path)])
    out = capsys.readouterr().out
    assert code == 0
    events = [json.loads(line) for line in out.splitlines()]
    assert events[0]["event"] == "CallStarted" and events[-1]["event"] == "CallEnded"
    finals = [e["utterance"] for e in events if e["event"] == "AssistResult" and e["utterance"]["final"]]
    assert {u["speaker"] for u in finals if HANGUL.search(u["text"])} == {"agent", "customer"}
    assert all(u["words"] for u in finals if u["text"])


def test_replay_records_a_session(speech, ko_model_path, ko_model, tmp_path, capsys):
    db = tmp_path / "s.db"
    assert main(["replay", str(speech["one"]), "--speed", "max", "--db", str(db), "--json",
                 "--model", str(ko_model_path)]) == 0
    started = json.loads(capsys.readouterr().out.splitlines()[0])
    from assist.store import open_store

    store = open_store(db)
    try:
        session = store.get_session(started["session_id"])
        assert session["status"] == "ended"
        texts = [u["text"] for u in store.utterances(started["session_id"])]
        assert any(HANGUL.search(t) for t in texts)
    finally:
        store.close()


def test_replay_live_view_prints_transcript(speech, ko_model_path, ko_model, capsys):
    assert main(["replay", str(speech["one"]), "--speed", "max", "--no-store", "--model", str(ko_model_path)]) == 0
    captured = capsys.readouterr()
    assert HANGUL.search(captured.out) and "通话文字" in captured.out
    assert "通话声道：" in captured.err and " 句" in captured.err


@pytest.mark.parametrize("content,needle", [(b"garbage" * 20, "not a readable PCM WAV"),
                                            (b"ID3\x03" + b"\0" * 40, "MP3")])
def test_replay_bad_wav_is_a_usage_error(tmp_path, content, needle, ko_model_path, capsys):
    f = tmp_path / "bad.wav"
    f.write_bytes(content)
    assert main(["replay", str(f), "--no-store", "--model", str(ko_model_path)]) == 2
    err = capsys.readouterr().err
    assert needle in err and "Traceback" not in err


def test_replay_without_model_says_how_to_fix(speech, capsys):
    assert main(["replay", str(speech["one"]), "--no-store"]) == 2
    err = capsys.readouterr().err
    assert "assist model download" in err and "Traceback" not in err


def test_bad_speed_and_playbook(speech, ko_model_path, capsys):
    assert main(["replay", str(speech["one"]), "--speed", "fast", "--no-store"]) == 2
    assert "--speed" in capsys.readouterr().err
    assert main(["replay", str(speech["one"]), "--playbook", "nope", "--no-store"]) == 2
    assert "nope" in capsys.readouterr().err


def test_model_path_and_list(ko_model_path, monkeypatch, capsys):
    assert main(["model", "path"]) == 2
    assert "assist model download" in capsys.readouterr().err
    monkeypatch.setenv("ASSIST_MODEL", str(ko_model_path))
    assert main(["model", "path"]) == 0
    assert capsys.readouterr().out.strip() == str(ko_model_path)
    assert main(["model", "list"]) == 0
    out = capsys.readouterr().out
    assert "vosk-model-small-cn-0.22" in out and "vosk-model-cn-0.22" in out and "[完整]" in out


def test_model_download_cli_against_local_server(tmp_path, monkeypatch, capsys):
    import importlib.util
    import pathlib

    spec = importlib.util.spec_from_file_location("model_tests", pathlib.Path(__file__).with_name("test_models.py"))
    mt = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mt)
    server = mt.Server()
    try:
        server.serve("vosk-model-small-cn-0.22", mt.make_zip())
        monkeypatch.setenv("ASSIST_MODEL_URL_BASE", server.base)
        assert main(["model", "download"]) == 0
        out, err = capsys.readouterr()
        assert "已安装 vosk-model-small-cn-0.22" in out
        assert "记录的是 3af8b0e7" in err and "实际为 " in err  # the unconfirmed hash: warned, files decide
        assert main(["model", "download", "--sha256", "0" * 64]) == 2
        err = capsys.readouterr().err
        assert "应为 " + "0" * 64 in err and "处理办法" in err and "Traceback" not in err
    finally:
        server.httpd.shutdown()


def test_devices_lists_and_saves_by_name(pulse, capsys):
    assert main(["devices"]) == 0
    assert "pulse" in capsys.readouterr().out
    assert main(["devices", "--agent", "PULSE"]) == 0
    assert load_config().agent_device == "pulse"
    assert main(["devices", "--customer", "no such thing"]) == 2
    assert "找不到输入设备 'no such thing'" in capsys.readouterr().err
    assert main(["devices"]) == 0
    assert "坐席麦克风（已保存）" in capsys.readouterr().out


def test_listen_unknown_device_is_a_usage_error(pulse, ko_model_path, capsys):
    assert main(["listen", "--agent", "no such mic", "--no-store", "--model", str(ko_model_path)]) == 2
    err = capsys.readouterr().err
    assert "找不到输入设备 'no such mic'" in err and "处理办法" in err and "Traceback" not in err


def test_config_roundtrip_and_broken_file():
    assert load_config() == UserConfig()
    save_config(UserConfig(agent_device="USB 耳机", model_path="/m"))
    assert load_config() == UserConfig(agent_device="USB 耳机", model_path="/m")
    config_path().write_text("agent_device: [unclosed", encoding="utf-8")
    with pytest.raises(ConfigError, match="config.yaml"):
        load_config()


def test_live_source_uses_saved_names_unless_asked_otherwise(ko_model_path):
    from assist.assembly import LiveSettings, live_source

    save_config(UserConfig(agent_device="Headset Mic", customer_device="Monitor of Softphone",
                           model_path=str(ko_model_path)))
    listener = live_source(call=None)
    assert listener.channel_devices == {"agent": "Headset Mic", "customer": "Monitor of Softphone"}
    asked = LiveSettings(agent="USB Mic")
    assert live_source(None, asked).channel_devices == {"agent": "USB Mic", "customer": "Monitor of Softphone"}
    assert live_source(None, LiveSettings(mixed=True)).channel_devices == {"unknown": "Headset Mic"}
