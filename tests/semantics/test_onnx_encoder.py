"""The ONNX Runtime backend on a tiny model the test builds itself (no hub here): a
WordPiece tokenizer trained on a few sentences and a graph Gather -> MatMul -> Tanh ->
masked mean pool -> LpNormalization (opset 17). Checks loading, shapes, normalisation,
batching, the model id, a damaged folder, and that ``assist model`` finds the folder."""
import os
import subprocess
import sys

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")  # the test extra installs it
from onnx import TensorProto, helper  # noqa: E402

from assist.semantics import EncoderUnavailable, load_encoder  # noqa: E402
from assist.semantics.onnx_encoder import OnnxEncoder  # noqa: E402

CORPUS = ["车贷月供几号扣款", "定位器什么时候拆", "保险能不能自己买", "没还清可以卖车吗",
          "你好 请问是本人吗", "今天天气不错"] * 5
DIM = 24


def build_model(folder, with_pool=True):
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers

    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(handle_chinese_chars=True, lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.train_from_iterator(CORPUS, trainers.WordPieceTrainer(vocab_size=200, special_tokens=["[PAD]", "[UNK]"]))
    tok.save(str(folder / "tokenizer.json"))
    vocab = tok.get_vocab_size()
    rng = np.random.default_rng(0)
    emb = helper.make_tensor("emb", TensorProto.FLOAT, [vocab, DIM], rng.standard_normal((vocab, DIM)).astype(np.float32).ravel())
    w = helper.make_tensor("w", TensorProto.FLOAT, [DIM, DIM], rng.standard_normal((DIM, DIM)).astype(np.float32).ravel())
    one = helper.make_tensor("one", TensorProto.FLOAT, [], [1.0])
    nodes = [
        helper.make_node("Gather", ["emb", "input_ids"], ["tok"]),           # [b, t, d]
        helper.make_node("MatMul", ["tok", "w"], ["h0"]),
        helper.make_node("Tanh", ["h0"], ["h"]),
    ]
    if with_pool:
        nodes += [
            helper.make_node("Cast", ["attention_mask"], ["m"], to=TensorProto.FLOAT),
            helper.make_node("Unsqueeze", ["m", "axis2"], ["m3"]),           # [b, t, 1]
            helper.make_node("Mul", ["h", "m3"], ["hm"]),
            helper.make_node("ReduceSum", ["hm", "axis1"], ["s"], keepdims=0),  # [b, d]
            helper.make_node("ReduceSum", ["m3", "axis1"], ["n0"], keepdims=0),  # [b, 1]
            helper.make_node("Max", ["n0", "one"], ["n"]),
            helper.make_node("Div", ["s", "n"], ["mean"]),
            helper.make_node("LpNormalization", ["mean"], ["sentence"], axis=1, p=2),
        ]
        out = helper.make_tensor_value_info("sentence", TensorProto.FLOAT, ["b", DIM])
    else:  # token states: the backend pools them itself
        nodes.append(helper.make_node("Identity", ["h"], ["last_hidden_state"]))
        out = helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["b", "t", DIM])
    axes = [helper.make_tensor("axis1", TensorProto.INT64, [1], [1]), helper.make_tensor("axis2", TensorProto.INT64, [1], [2])]
    graph = helper.make_graph(
        nodes, "tiny_encoder",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["b", "t"]),
         helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["b", "t"])],
        [out], initializer=[emb, w, one, *axes])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(folder / "model.onnx"))
    return folder


@pytest.fixture
def model_dir(tmp_path):
    d = tmp_path / "tiny-encoder"
    d.mkdir()
    return build_model(d)


def test_encodes_normalised_rows_batch_and_single_agree(model_dir):
    enc = OnnxEncoder(model_dir)
    assert enc.dim == DIM and enc.model_id.startswith("onnx:tiny-encoder:")
    texts = [f"车贷月供几号扣款 {i}" for i in range(40)] + ["定位器什么时候拆"]
    v = enc.encode(texts)  # more than one batch
    assert v.shape == (41, DIM) and v.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(enc.encode(["定位器什么时候拆"])[0], v[-1], rtol=1e-4, atol=1e-5)
    assert enc.encode([]).shape == (0, DIM)
    assert float(v[0] @ v[1]) > float(v[0] @ v[-1])  # shared words make closer vectors


def test_token_state_output_is_pooled_here(tmp_path):
    d = tmp_path / "states"
    d.mkdir()
    enc = OnnxEncoder(build_model(d, with_pool=False))
    v = enc.encode(["保险能不能自己买", "没还清可以卖车吗"])
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, rtol=1e-5)


def test_model_id_changes_with_the_model(model_dir, tmp_path):
    other = tmp_path / "tiny-encoder-2" / "tiny-encoder"
    other.mkdir(parents=True)
    (other / "tokenizer.json").write_bytes((model_dir / "tokenizer.json").read_bytes())
    m = onnx.load(str(model_dir / "model.onnx"))
    m.graph.initializer[1].float_data[:] = [0.5] * (DIM * DIM) if m.graph.initializer[1].float_data else []
    onnx.save(m, str(other / "model.onnx"))
    (other / "encoder.json").write_text('{"prefix": "query: "}')
    assert OnnxEncoder(other).model_id != OnnxEncoder(model_dir).model_id


def test_incomplete_or_broken_folder_is_unavailable_in_chinese(model_dir):
    (model_dir / "tokenizer.json").unlink()
    with pytest.raises(EncoderUnavailable, match="缺少 tokenizer.json"):
        OnnxEncoder(model_dir)
    (model_dir / "tokenizer.json").write_text("{}")
    (model_dir / "model.onnx").write_bytes(b"not a model")
    with pytest.raises(EncoderUnavailable, match="无法加载"):
        OnnxEncoder(model_dir)


def test_load_encoder_takes_a_folder_or_the_env(model_dir, monkeypatch):
    assert load_encoder(str(model_dir)).dim == DIM
    monkeypatch.setenv("ASSIST_ENCODER", "onnx")
    monkeypatch.setenv("ASSIST_ENCODER_MODEL", str(model_dir))
    assert load_encoder().dim == DIM
    monkeypatch.setenv("ASSIST_ENCODER", "something-else")
    with pytest.raises(EncoderUnavailable, match="未知的语义模型"):
        load_encoder()


def test_model_commands_list_and_locate_encoder_models(model_dir, tmp_path):
    from assist.asr.models import DEFAULT_ENCODER_MODEL

    models = tmp_path / "models"
    models.mkdir()
    os.replace(model_dir, models / DEFAULT_ENCODER_MODEL)
    env = dict(os.environ, ASSIST_MODELS_DIR=str(models), ASSIST_CONFIG_DIR=str(tmp_path / "cfg"))
    run = lambda *a: subprocess.run([sys.executable, "-m", "assist", "model", *a], capture_output=True,  # noqa: E731
                                    text=True, env=env, timeout=120)
    p = run("list")
    assert p.returncode == 0 and DEFAULT_ENCODER_MODEL in p.stdout and "[完整]" in p.stdout
    p = run("path", DEFAULT_ENCODER_MODEL)
    assert p.returncode == 0 and p.stdout.strip() == str(models / DEFAULT_ENCODER_MODEL)


def test_encoder_model_downloads_file_by_file(model_dir, tmp_path):
    import functools
    import http.server
    import threading

    from assist.asr.models import DEFAULT_ENCODER_MODEL, download_model

    served = tmp_path / "hub"
    (served / "onnx").mkdir(parents=True)
    (served / "onnx" / "model.onnx").write_bytes((model_dir / "model.onnx").read_bytes())
    (served / "tokenizer.json").write_bytes((model_dir / "tokenizer.json").read_bytes())
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        path = download_model(DEFAULT_ENCODER_MODEL, dest_dir=tmp_path / "models",
                              url_base=f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
    assert OnnxEncoder(path).encode(["定位器什么时候拆"]).shape == (1, DIM)
