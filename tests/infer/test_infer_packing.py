"""Packed models are verified before anything is read, and never unpickled."""

import hashlib
import io
import json
import pickle
import tarfile

import pytest

from emotion2vec.bin import pack_model
from emotion2vec.errors import E2VError
from emotion2vec.inference import packing


class Boom:
    """Unpickling this would run code: the loader must never get that far."""

    def __reduce__(self):
        return (exec, ("raise SystemExit('unpickled!')",))


@pytest.fixture(scope="module")
def packed(tmp_path_factory, exp_dir):
    out = tmp_path_factory.mktemp("pack") / "model.tar.gz"
    pack_model.main([str(exp_dir), str(out)])
    return out


def _members(path):
    with tarfile.open(path) as t:
        return {m.name: t.extractfile(m).read() for m in t.getmembers() if m.isfile()}


def _write(path, members, manifest_files=None):
    """A tar.gz with `members`; manifest.json's file list (sha256) updated for the others."""
    man = json.loads(members["manifest.json"])
    man["files"] = manifest_files if manifest_files is not None else {
        n: {"sha256": hashlib.sha256(d).hexdigest(), "size": len(d)}
        for n, d in members.items() if n != "manifest.json"}
    members = dict(members, **{"manifest.json": json.dumps(man).encode()})
    with tarfile.open(path, "w:gz") as t:
        for n, d in members.items():
            ti = tarfile.TarInfo(n)
            ti.size = len(d)
            t.addfile(ti, io.BytesIO(d))
    return path


def test_packed_file_holds_only_json_and_safetensors(packed):
    names = set(_members(packed))
    assert names == {"manifest.json", "heads/fold1/head.json", "heads/fold1/head.safetensors",
                     "heads/fold2/head.json", "heads/fold2/head.safetensors"}


def test_pickle_payload_is_refused(tmp_path, packed):
    members = _members(packed)
    members["heads/fold1/head.pt"] = pickle.dumps(Boom())
    bad = _write(tmp_path / "pickle.tar.gz", members)
    with pytest.raises(E2VError, match="head.pt is a pickle-based file.*refused"):
        packing.unpack(bad, tmp_path / "cache")
    assert not any((tmp_path / "cache").glob("*/manifest.json"))


def test_pickle_disguised_as_safetensors_is_refused(tmp_path, packed):
    members = _members(packed)
    members["heads/fold1/head.safetensors"] = pickle.dumps(Boom())
    bad = _write(tmp_path / "disguised.tar.gz", members)
    with pytest.raises(E2VError, match="not a safetensors file"):
        packing.unpack(bad, tmp_path / "cache")


def test_pickle_only_payload_cannot_pass_as_a_packed_model(tmp_path):
    bad = tmp_path / "model.tar.gz"
    data = pickle.dumps(Boom())
    with tarfile.open(bad, "w:gz") as t:
        ti = tarfile.TarInfo("model.pt")
        ti.size = len(data)
        t.addfile(ti, io.BytesIO(data))
    with pytest.raises(E2VError, match="no manifest.json"):
        packing.unpack(bad, tmp_path / "cache")


def test_altered_member_fails_its_checksum(tmp_path, packed):
    members = _members(packed)
    man = json.loads(members["manifest.json"])
    j = json.loads(members["heads/fold2/head.json"])
    j["classes"] = ["hap", "ang"]
    members["heads/fold2/head.json"] = json.dumps(j).encode()
    bad = _write(tmp_path / "altered.tar.gz", members, manifest_files=man["files"])
    with pytest.raises(E2VError, match="head.json does not match its checksum"):
        packing.unpack(bad, tmp_path / "cache")


@pytest.mark.parametrize("name,msg", [("../evil.json", "outside the archive"),
                                      ("/abs.json", "outside the archive"),
                                      ("heads/run.sh", "never hold")])
def test_unsafe_member_names_are_refused(tmp_path, packed, name, msg):
    members = dict(_members(packed), **{name: b"{}"})
    bad = _write(tmp_path / "names.tar.gz", members)
    with pytest.raises(E2VError, match=msg):
        packing.unpack(bad, tmp_path / "cache")


def test_symlink_member_is_refused(tmp_path, packed):
    members = _members(packed)
    path = _write(tmp_path / "link.tar.gz", members)
    with tarfile.open(path, "r:gz") as t:
        items = [(m, t.extractfile(m).read()) for m in t.getmembers()]
    with tarfile.open(path, "w:gz") as t:
        for m, d in items:
            t.addfile(m, io.BytesIO(d))
        ti = tarfile.TarInfo("heads/link.json")
        ti.type, ti.linkname = tarfile.SYMTYPE, "/etc/passwd"
        t.addfile(ti)
    with pytest.raises(E2VError, match="not a regular file"):
        packing.unpack(path, tmp_path / "cache")


def test_unsupported_version_and_missing_member(tmp_path, packed):
    members = _members(packed)
    man = json.loads(members["manifest.json"])
    man["format_version"] = 99
    v = dict(members, **{"manifest.json": json.dumps(man).encode()})
    with tarfile.open(tmp_path / "v.tar.gz", "w:gz") as t:
        for n, d in v.items():
            ti = tarfile.TarInfo(n)
            ti.size = len(d)
            t.addfile(ti, io.BytesIO(d))
    with pytest.raises(E2VError, match="format version 99 is not supported"):
        packing.unpack(tmp_path / "v.tar.gz", tmp_path / "cache")
    man = json.loads(members["manifest.json"])
    del members["heads/fold2/head.safetensors"]
    bad = _write(tmp_path / "missing.tar.gz", members, manifest_files=man["files"])
    with pytest.raises(E2VError, match="missing: heads/fold2/head.safetensors"):
        packing.unpack(bad, tmp_path / "cache")


def test_cli_reports_refusal_with_exit_1(tmp_path, packed, audio_data, infer_cli):
    members = _members(packed)
    members["heads/fold1/head.pkl"] = pickle.dumps(Boom())
    bad = _write(tmp_path / "pickle.tar.gz", members)
    code, err = infer_cli(["--model", bad, "--no-progress", audio_data, tmp_path / "out"])
    assert code == 1
    assert "infer: error:" in err and "head.pkl is a pickle-based file" in err
    code, err = infer_cli(["--show", bad], module="pack_model")
    assert code == 0  # the manifest alone is fine to show; nothing is loaded
