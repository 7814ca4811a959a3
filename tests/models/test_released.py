"""Released ids: every name, with or without its hub prefix and a revision, resolves to the
cache; a missing model downloads from Hugging Face or ModelScope (a local ModelScope-style file
server here) into it; offline, the message names the files and where to put them."""

import http.server
import shutil
import threading
import urllib.parse
from pathlib import Path

import pytest

from emotion2vec import AutoModel
from emotion2vec.errors import E2VError
from emotion2vec.models import load_model
from emotion2vec.models.released import (MS_ENDPOINT_ENV, RELEASED, model_dir, parse_id,
                                         resolve_spec)
from emotion2vec.testing.tiny import make_tiny_checkpoint

NAMES = sorted(RELEASED)


def _place(root: Path, name: str, revision=None) -> Path:
    d = root / (f"{name}@{revision}" if revision else name)
    r = RELEASED[name]
    if r.num_classes:
        make_tiny_checkpoint(d, fmt="plus", seed=len(name))
    else:
        d.mkdir(parents=True)
        make_tiny_checkpoint(d / r.weights, fmt="fairseq", seed=len(name))
    return d


@pytest.mark.parametrize("name", NAMES)
def test_every_id_form_resolves_to_the_cache(name, tmp_path, monkeypatch):
    monkeypatch.setenv("EMOTION2VEC_CACHE", str(tmp_path))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    d = _place(tmp_path, name)
    _place(tmp_path, name, "v2.0.4")
    for spec in (name, f"iic/{name}", f"emotion2vec/{name}", f"damo/{name}"):
        assert parse_id(spec) == (name, None)
        assert resolve_spec(spec) == d / RELEASED[name].weights
        pinned = resolve_spec(f"{spec}@v2.0.4")
        assert pinned == model_dir(name, "v2.0.4") / RELEASED[name].weights and pinned.is_file()
    m = load_model(f"iic/{name}")
    assert (m.labels is None) == (RELEASED[name].num_classes == 0)
    assert parse_id(f"someone/{name}") is None and parse_id("emotion2vec_tiny") is None


@pytest.mark.parametrize("name", NAMES)
def test_offline_message_names_the_files_and_the_place(name, tmp_path, monkeypatch):
    monkeypatch.setenv("EMOTION2VEC_CACHE", str(tmp_path))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv(MS_ENDPOINT_ENV, "http://127.0.0.1:9")    # nothing listens there
    r = RELEASED[name]
    for hub in ("hf", "ms"):
        with pytest.raises(E2VError) as ei:
            resolve_spec(f"iic/{name}@v1", hub=hub)
        msg = str(ei.value)
        assert str(tmp_path / f"{name}@v1") in msg
        for f in r.files:
            assert f in msg
        assert (r.ms and f"modelscope.cn/models/{r.ms}" in msg)
        assert (r.hf is None) or f"huggingface.co/{r.hf}" in msg
        used = r.hf if hub == "hf" and r.hf else r.ms
        assert f"{used}@v1" in msg


class _ModelScopeFiles(http.server.BaseHTTPRequestHandler):
    """GET /api/v1/models/<repo>/repo?Revision=&FilePath=: files under ROOT/<repo>@<rev>/."""
    root: Path = Path()
    seen: list = []

    def do_GET(self):  # noqa: N802 - http.server's name
        u = urllib.parse.urlparse(self.path)
        q = urllib.parse.parse_qs(u.query)
        repo = u.path[len("/api/v1/models/"):-len("/repo")]
        f = self.root / f"{repo}@{q['Revision'][0]}" / q["FilePath"][0]
        self.seen.append((repo, q["Revision"][0], q["FilePath"][0]))
        if not f.is_file():
            self.send_error(404)
            return
        data = f.read_bytes()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *a):
        pass


@pytest.fixture
def modelscope(tmp_path, monkeypatch):
    served = tmp_path / "served"
    handler = type("H", (_ModelScopeFiles,), {"root": served, "seen": []})
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    monkeypatch.setenv(MS_ENDPOINT_ENV, f"http://127.0.0.1:{srv.server_port}")
    monkeypatch.setenv("EMOTION2VEC_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    yield served, handler
    srv.shutdown()


def test_modelscope_download_then_cache(modelscope, tmp_path):
    served, handler = modelscope
    src = _place(tmp_path / "src", "emotion2vec_plus_seed")
    shutil.copytree(src, served / "iic/emotion2vec_plus_seed@master")
    m = AutoModel(model="iic/emotion2vec_plus_seed", hub="ms")
    got = tmp_path / "cache" / "emotion2vec_plus_seed"
    assert sorted(p.name for p in got.iterdir()) == ["config.yaml", "model.pt", "tokens.txt"]
    assert m.tokens and m.model_path == str(got)
    n = len(handler.seen)
    AutoModel(model="emotion2vec_plus_seed", hub="ms")       # from the cache: no request
    assert len(handler.seen) == n


def test_modelscope_pinned_revision_and_missing_weights(modelscope, tmp_path):
    served, handler = modelscope
    base = _place(tmp_path / "src", "emotion2vec_base")
    shutil.copytree(base, served / "iic/emotion2vec_base@v2.0.4")
    AutoModel(model="iic/emotion2vec_base", hub="modelscope", model_revision="v2.0.4")
    assert ("iic/emotion2vec_base", "v2.0.4", "emotion2vec_base.pt") in handler.seen
    assert (tmp_path / "cache" / "emotion2vec_base@v2.0.4" / "emotion2vec_base.pt").is_file()
    with pytest.raises(E2VError, match=r"HTTPError.*place emotion2vec_base.pt"):
        resolve_spec("emotion2vec_base@v9", hub="ms")
    assert not list((tmp_path / "cache" / "emotion2vec_base@v9").glob("*.pt"))


def test_models_hugging_face_lacks_come_from_modelscope(modelscope, tmp_path):
    served, handler = modelscope
    src = _place(tmp_path / "src", "emotion2vec_base_finetuned")
    shutil.copytree(src, served / "iic/emotion2vec_base_finetuned@master")
    assert RELEASED["emotion2vec_base_finetuned"].hf is None
    w = resolve_spec("emotion2vec_base_finetuned", hub="hf")
    assert w.is_file() and handler.seen[0][0] == "iic/emotion2vec_base_finetuned"


def test_hugging_face_download_asks_for_the_pinned_files(tmp_path, monkeypatch):
    import huggingface_hub

    monkeypatch.setenv("EMOTION2VEC_CACHE", str(tmp_path / "cache"))
    src = _place(tmp_path / "src", "emotion2vec_plus_base")
    calls = []

    def fake(repo_id, revision, local_dir, allow_patterns):   # the hub, served from disk
        calls.append((repo_id, revision, sorted(allow_patterns)))
        shutil.copytree(src, local_dir, dirs_exist_ok=True)
        return local_dir

    monkeypatch.setattr(huggingface_hub, "snapshot_download", fake)
    m = load_model("emotion2vec/emotion2vec_plus_base@abc123")
    assert calls == [("emotion2vec/emotion2vec_plus_base", "abc123",
                      ["config.yaml", "model.pt", "tokens.txt"])]
    assert m.labels[0] == "angry"
    assert (tmp_path / "cache" / "emotion2vec_plus_base@abc123" / "model.pt").is_file()


def test_a_local_directory_wins_over_an_id(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("EMOTION2VEC_CACHE", str(tmp_path / "empty"))
    make_tiny_checkpoint(tmp_path / "iic" / "emotion2vec_plus_large", fmt="plus", seed=4)
    w = resolve_spec("iic/emotion2vec_plus_large")    # FunASR's download layout, used as is
    assert w == Path("iic/emotion2vec_plus_large/model.pt")
    with pytest.raises(E2VError, match="hub 'github'"):
        resolve_spec("emotion2vec_plus_base", hub="github")
