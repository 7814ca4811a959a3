import numpy as np
import pytest

from emotion2vec.errors import E2VError
from emotion2vec.training.featureset import FeatureSet, convert_to_plain


def _write(path, mats):
    import kaldi_native_io as kio
    w = kio.FloatMatrixWriter(f"ark,scp:{path}.ark,{path}.scp")
    for k, m in mats.items():
        w.write(k, m)
    w.close()


def test_reads_back_what_kaldi_native_io_wrote(corpus):
    import kaldi_native_io as kio
    _, feats = corpus
    fs = FeatureSet(feats / "feats.scp")
    r = kio.RandomAccessFloatMatrixReader(f"scp:{feats / 'feats.scp'}")
    for u in fs.utts[:5]:
        assert np.array_equal(fs[u], np.array(r[u]))
    assert fs.dim == 16 and not fs.needs_conversion
    pooled = fs.pooled(fs.utts[:3])
    assert np.allclose(pooled[1], np.array(r[fs.utts[1]]).mean(axis=0), atol=1e-6)


def test_missing_utterance(corpus):
    _, feats = corpus
    with pytest.raises(E2VError, match=r"no features for 1 of 2 utterance\(s\), e.g. 'nope'"):
        FeatureSet(feats / "feats.scp", ["Ses01F-utt000", "nope"])


def test_bad_offset_is_named(corpus):
    _, feats = corpus
    scp = feats / "feats.scp"
    lines = scp.read_text().splitlines()
    u, spec = lines[2].split()
    ark, off = spec.rsplit(":", 1)
    lines[2] = f"{u} {ark}:{int(off) + 5}"
    scp.write_text("\n".join(lines) + "\n")
    with pytest.raises(E2VError, match=f"utterance '{u}'.*does not point at a Kaldi matrix"):
        FeatureSet(scp)


def test_truncated_ark(corpus):
    _, feats = corpus
    ark = feats / "feats.ark"
    data = ark.read_bytes()
    ark.write_bytes(data[:-100])
    with pytest.raises(E2VError, match="runs past the end of the file.*truncated"):
        FeatureSet(feats / "feats.scp")


def test_missing_ark_and_malformed_scp(corpus, tmp_path):
    _, feats = corpus
    (feats / "feats.ark").rename(tmp_path / "moved.ark")
    with pytest.raises(E2VError, match="ark file .*feats.ark not found"):
        FeatureSet(feats / "feats.scp")
    (tmp_path / "bad.scp").write_text("uttA\n")
    with pytest.raises(E2VError, match="bad.scp:1: malformed line"):
        FeatureSet(tmp_path / "bad.scp")


def test_dimension_mismatch(tmp_path):
    _write(tmp_path / "f", {"a": np.zeros((3, 4), np.float32), "b": np.zeros((2, 5), np.float32)})
    with pytest.raises(E2VError, match="different dimensions.*'b' has 5"):
        FeatureSet(tmp_path / "f.scp")


def test_nan_is_reported(tmp_path):
    m = np.zeros((3, 4), np.float32)
    m[1, 2] = np.nan
    _write(tmp_path / "f", {"a": m})
    fs = FeatureSet(tmp_path / "f.scp")
    with pytest.raises(E2VError, match="'a': features contain NaN"):
        fs["a"]


def test_compressed_entries_are_converted(tmp_path):
    import kaldi_native_io as kio
    rng = np.random.default_rng(0)
    mats = {"a": rng.normal(size=(5, 4)).astype(np.float32),
            "b": rng.normal(size=(7, 4)).astype(np.float32)}
    w = kio.CompressedMatrixWriter(f"ark,scp:{tmp_path / 'c.ark'},{tmp_path / 'c.scp'}")
    for k, m in mats.items():
        w.write(k, m, kio.CompressionMethod.kAutomaticMethod)
    w.close()
    fs = FeatureSet(tmp_path / "c.scp")
    assert fs.needs_conversion == ["a", "b"]
    scp = convert_to_plain(tmp_path / "c.scp", ["a", "b"], tmp_path / "plain")
    fs2 = FeatureSet(scp)
    assert not fs2.needs_conversion
    for k, m in mats.items():
        assert np.allclose(fs2[k], m, atol=0.05)      # compression is lossy
