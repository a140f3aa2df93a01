"""Model management against a real local HTTP server: progress, checksum, resume, atomic unpack."""
from __future__ import annotations

import hashlib
import http.server
import io
import threading
import zipfile

import pytest

from assist.asr import models
from assist.asr.models import ChecksumMismatch, DownloadError, ModelMissing

NAME = "vosk-model-small-cn-0.22"
MODEL_FILES = ["am/final.mdl", "conf/model.conf", "conf/mfcc.conf", "graph/HCLr.fst", "graph/Gr.fst",
               "graph/phones/word_boundary.int", "ivector/final.ie"]


def make_zip(name=NAME, files=MODEL_FILES, pad=200_000) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        for rel in files:
            z.writestr(f"{name}/{rel}", f"fake {rel}\n" + "x" * (pad if rel == "am/final.mdl" else 0))
    return buf.getvalue()


class Server:
    """Serves ``files`` (url path -> bytes) with Range support; ``cut_first`` truncates the first transfer."""

    def __init__(self):
        self.files: dict[str, bytes] = {}
        self.cut_first: int | None = None
        self.ranges: list[str | None] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                body = outer.files.get(self.path)
                outer.ranges.append(self.headers.get("Range"))
                if body is None:
                    self.send_error(404)
                    return
                start = 0
                rng = self.headers.get("Range")
                if rng:
                    start = int(rng.split("=")[1].split("-")[0])
                    if start >= len(body):
                        self.send_response(416)
                        self.end_headers()
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                else:
                    self.send_response(200)
                part = body[start:]
                self.send_header("Content-Length", str(len(part)))
                self.end_headers()
                if outer.cut_first is not None:
                    n, outer.cut_first = outer.cut_first, None
                    self.wfile.write(part[:n])
                    self.wfile.flush()
                    self.connection.shutdown(2)  # the line drops mid-transfer
                    return
                self.wfile.write(part)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}/vosk/models"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def serve(self, name: str, data: bytes) -> None:
        self.files[f"/vosk/models/{name}.zip"] = data


@pytest.fixture
def server():
    s = Server()
    yield s
    s.httpd.shutdown()


def test_download_progress_and_install(server, tmp_path, monkeypatch):
    data = make_zip()
    server.serve(NAME, data)
    monkeypatch.setenv("ASSIST_MODEL_URL_BASE", server.base)
    progress, warnings = [], []
    path = models.download_model(NAME, dest_dir=tmp_path, sha256=hashlib.sha256(data).hexdigest(),
                                 progress=lambda d, t: progress.append((d, t)), warn=warnings.append)
    assert path == tmp_path / NAME and models.check_model(path) == []
    assert progress[0][1] == len(data) and progress[-1] == (len(data), len(data))
    assert len(progress) > 2 and [d for d, _ in progress] == sorted(d for d, _ in progress)
    assert warnings == []
    assert not list(tmp_path.glob(".unpack-*")) and not list((tmp_path / ".downloads").iterdir())
    monkeypatch.setenv("ASSIST_MODELS_DIR", str(tmp_path))
    assert models.find_model() == path
    assert [m.name for m in models.list_models() if m.complete] == [NAME]


def test_confirmed_checksum_mismatch_is_fatal_and_says_both(server, tmp_path):
    data = make_zip()
    server.serve(NAME, data)
    with pytest.raises(ChecksumMismatch) as e:
        models.download_model(NAME, dest_dir=tmp_path, url_base=server.base, sha256="ab" * 32)
    msg = str(e.value)
    assert f"应为 {'ab' * 32}" in msg and f"实际为 {hashlib.sha256(data).hexdigest()}" in msg
    assert not (tmp_path / NAME).exists()
    assert not (tmp_path / ".downloads" / f"{NAME}.zip.part").exists()  # not resumed next time


def test_unconfirmed_recorded_checksum_warns_and_files_decide(server, tmp_path):
    data = make_zip()  # our fake zip cannot match the recorded hash of the real one
    server.serve(NAME, data)
    warnings = []
    path = models.download_model(NAME, dest_dir=tmp_path, url_base=server.base, warn=warnings.append)
    assert models.check_model(path) == []
    assert len(warnings) == 1
    assert models.KNOWN_MODELS[NAME].sha256 in warnings[0] and hashlib.sha256(data).hexdigest() in warnings[0]


def test_resume_after_a_broken_transfer(server, tmp_path):
    data = make_zip()
    server.serve(NAME, data)
    server.cut_first = 70_000
    with pytest.raises(DownloadError, match="再运行一次同样的命令即可接着下载"):
        models.download_model(NAME, dest_dir=tmp_path, url_base=server.base)
    part = tmp_path / ".downloads" / f"{NAME}.zip.part"
    assert part.stat().st_size == 70_000
    assert not (tmp_path / NAME).exists()
    progress = []
    path = models.download_model(NAME, dest_dir=tmp_path, url_base=server.base,
                                 sha256=hashlib.sha256(data).hexdigest(), progress=lambda d, t: progress.append(d))
    assert server.ranges[-1] == "bytes=70000-"
    assert progress[0] == 70_000 and progress[-1] == len(data)
    assert models.check_model(path) == []


def test_incomplete_archive_leaves_nothing_behind(server, tmp_path):
    server.serve(NAME, make_zip(files=["conf/model.conf", "graph/Gr.fst"]))
    with pytest.raises(DownloadError, match="am/final.mdl"):
        models.download_model(NAME, dest_dir=tmp_path, url_base=server.base)
    assert not (tmp_path / NAME).exists()
    assert [p.name for p in tmp_path.iterdir()] == [".downloads"]


def test_bad_zip_and_http_errors(server, tmp_path):
    server.serve(NAME, b"<html>not a zip</html>")
    with pytest.raises(DownloadError, match="不是有效的 zip 压缩包"):
        models.download_model(NAME, dest_dir=tmp_path, url_base=server.base)
    assert not (tmp_path / NAME).exists()
    with pytest.raises(DownloadError, match="HTTP 404"):
        models.download_model("vosk-model-cn-0.22", dest_dir=tmp_path, url_base=server.base)
    with pytest.raises(DownloadError, match="无法下载"):
        models.download_model(NAME, dest_dir=tmp_path, url_base="http://127.0.0.1:9/none")


def test_replacing_an_installed_model_is_atomic(server, tmp_path):
    server.serve(NAME, make_zip())
    models.download_model(NAME, dest_dir=tmp_path, url_base=server.base)
    (tmp_path / NAME / "old-marker").write_text("old")
    models.download_model(NAME, dest_dir=tmp_path, url_base=server.base)
    assert not (tmp_path / NAME / "old-marker").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [".downloads", NAME]


def test_missing_model_message_has_the_fix_command():
    with pytest.raises(ModelMissing) as e:
        models.find_model()
    assert "assist model download" in str(e.value) and "\n" not in str(e.value)
    assert e.value.fix == "assist model download"


def test_incomplete_model_folder_names_what_is_missing(tmp_path, monkeypatch):
    broken = tmp_path / "half-model"
    (broken / "conf").mkdir(parents=True)
    (broken / "conf" / "model.conf").write_text("")
    monkeypatch.setenv("ASSIST_MODEL", str(broken))
    with pytest.raises(ModelMissing) as e:
        models.find_model()
    assert "am/final.mdl" in str(e.value) and "graph/" in str(e.value)
    assert "assist model download" in str(e.value)
    from assist.asr.recognizer import load_model

    with pytest.raises(ModelMissing, match="incomplete"):
        load_model(broken)


def test_env_and_config_point_at_any_model(tmp_path, monkeypatch, ko_model_path):
    monkeypatch.setenv("ASSIST_MODEL", str(ko_model_path))
    assert models.find_model() == ko_model_path
    monkeypatch.delenv("ASSIST_MODEL")
    from assist.config import UserConfig, save_config

    save_config(UserConfig(model_path=str(ko_model_path)))
    assert models.find_model() == ko_model_path
    assert models.model_sample_rate(ko_model_path) == 16000
