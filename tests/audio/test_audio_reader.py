"""emotion2vec.audio: every wav.scp form gives the same samples; every failure names the
utterance and the reason."""

import subprocess

import numpy as np
import pytest
import soundfile as sf

from emotion2vec.audio import AudioReader, entry_kind, load_audio
from emotion2vec.errors import E2VError


def one_utt_dir(tmp_path, entry, utt="spk1-a"):
    d = tmp_path / "data"
    d.mkdir(exist_ok=True)
    (d / "wav.scp").write_text(f"{utt} {entry}\n")
    return d


def test_entry_kinds(tmp_path):
    assert entry_kind("sox a.wav -t wav - |") == "pipe"
    assert entry_kind("/x/waves.ark:1234") == "ark"
    assert entry_kind("/x/a.wav") == "file"
    odd = tmp_path / "odd:12"  # an existing file whose name looks like ark:offset
    odd.write_bytes(b"")
    assert entry_kind(str(odd)) == "file"


def test_all_forms_give_identical_samples(forms):
    readers = {k: AudioReader(d) for k, d in forms.items()}
    keys = readers["file"].keys
    assert len(keys) == 12 and keys == sorted(keys)
    for form in ("pipe", "ark", "segments"):
        assert readers[form].keys == keys
    for utt, ref in readers["file"]:
        assert ref.dtype == np.float32 and ref.ndim == 1 and np.abs(ref).max() <= 1.0
        for form in ("pipe", "ark", "segments"):
            np.testing.assert_array_equal(readers[form].read(utt), ref, err_msg=f"{form} {utt}")


def test_ark_matches_kaldi_reader(forms):
    """Our RIFF-at-offset reading equals kaldi_native_io's wave reader (Kaldi's format)."""
    import kaldi_native_io as kio

    scp = dict(line.split() for line in (forms["ark"] / "wav.scp").read_text().splitlines())
    reader = AudioReader(forms["ark"])
    for utt, entry in list(scp.items())[:3]:
        assert open(entry.rsplit(":", 1)[0], "rb").read()[int(entry.rsplit(":", 1)[1]):][:4] == b"RIFF"
        w = kio.read_wave(entry)
        kaldi = w.data.numpy()[0] / 32768.0
        np.testing.assert_allclose(reader.read(utt), kaldi, atol=1e-7)


def test_ark_with_binary_marker_is_accepted(tmp_path, forms):
    """An archive entry written as `<key> \\0B<RIFF>` (hand-made) reads the same."""
    wav = sorted((forms["file"].parent / "wav").glob("spk1-u00.wav"))[0]
    riff = wav.read_bytes()
    ark = tmp_path / "hand.ark"
    ark.write_bytes(b"spk1-u00 \0B" + riff)
    got = load_audio(f"{ark}:9", "u")
    np.testing.assert_array_equal(got, load_audio(str(wav), "u"))


@pytest.mark.parametrize("rate", [22050, 44100, 8000])
def test_other_rates_are_resampled(tmp_path, forms, rate):
    src = forms["file"].parent / "wav" / "spk2-u01.wav"
    ref = load_audio(str(src))
    out = tmp_path / f"r{rate}.wav"
    subprocess.run(["sox", "-R", str(src), "-r", str(rate), str(out)], check=True)
    got = AudioReader(one_utt_dir(tmp_path, str(out))).read("spk1-a")
    assert abs(len(got) - len(ref)) <= 2
    n = min(len(got), len(ref))
    if rate > 16000:  # no band lost: the waveforms agree closely
        assert np.corrcoef(got[:n], ref[:n])[0, 1] > 0.99
    else:
        assert np.corrcoef(got[:n], ref[:n])[0, 1] > 0.8


def test_stereo_is_channel_mean(tmp_path, forms):
    x, rate = sf.read(forms["file"].parent / "wav" / "spk3-u02.wav", dtype="float32")
    stereo = tmp_path / "st.wav"
    sf.write(stereo, np.stack([x, x], axis=1), rate, subtype="PCM_16")
    np.testing.assert_array_equal(load_audio(str(stereo)), x)
    other = tmp_path / "st2.flac"
    y = np.stack([x, 0.5 * x[::-1]], axis=1)
    sf.write(other, y, rate, subtype="PCM_24")
    np.testing.assert_allclose(load_audio(str(other)), y.mean(axis=1), atol=1e-6)


def test_bit_depths_scale_to_unit_range(tmp_path):
    x = (0.5 * np.sin(np.arange(8000) / 7)).astype(np.float32)
    for subtype in ("PCM_16", "PCM_24", "PCM_32", "FLOAT", "PCM_U8"):
        p = tmp_path / f"{subtype}.wav"
        sf.write(p, x, 16000, subtype=subtype)
        np.testing.assert_allclose(load_audio(str(p)), x, atol=1e-2 if subtype == "PCM_U8" else 1e-4)


# ---------------------------------------------------------------- errors


def expect_error(tmp_path, entry, *parts):
    r = AudioReader(one_utt_dir(tmp_path, entry))
    with pytest.raises(E2VError) as e:
        r.read("spk1-a")
    msg = str(e.value)
    assert "spk1-a" in msg
    for p in parts:
        assert p in msg, msg
    return msg


def test_missing_file(tmp_path):
    expect_error(tmp_path, str(tmp_path / "nope.wav"), "no such file", "nope.wav")


def test_failing_pipe_reports_status_and_stderr(tmp_path):
    expect_error(tmp_path, f"sox {tmp_path}/missing.wav -t wav - |", "exit status 2",
                 "missing.wav")


def test_pipe_failing_early_in_pipeline_is_caught(tmp_path, forms):
    """pipefail: a failed first command is an error even though the last one succeeded."""
    wav = forms["file"].parent / "wav" / "spk1-u00.wav"
    expect_error(tmp_path, f"cat {tmp_path}/nothing {wav} | cat |", "exit status 1")


def test_pipe_with_no_output(tmp_path):
    expect_error(tmp_path, "true |", "wrote no audio")


def test_corrupt_file(tmp_path):
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF\x24\x00\x00\x00WAVEjunkjunkjunk" * 3)
    expect_error(tmp_path, str(bad), "cannot read audio")


def test_empty_file(tmp_path):
    p = tmp_path / "empty.wav"
    sf.write(p, np.zeros(0, np.float32), 16000)
    expect_error(tmp_path, str(p), "empty audio")


def test_nan_samples(tmp_path):
    p = tmp_path / "nan.wav"
    x = np.zeros(1600, np.float32)
    x[100] = np.nan
    sf.write(p, x, 16000, subtype="FLOAT")
    expect_error(tmp_path, str(p), "NaN")


def test_bad_ark_offset(tmp_path, forms):
    ark = forms["ark"].parent / "wav" / "waves.ark"
    expect_error(tmp_path, f"{ark}:5", "no wave (RIFF header) at offset 5")
    expect_error(tmp_path, f"{tmp_path}/none.ark:0", "no such archive")


# ---------------------------------------------------------------- segments


def seg_dir(tmp_path, wav_entry, segments):
    d = tmp_path / "segd"
    d.mkdir(exist_ok=True)
    (d / "wav.scp").write_text(f"rec1 {wav_entry}\n")
    (d / "segments").write_text("".join(f"{u} rec1 {s} {e}\n" for u, s, e in segments))
    return d


def test_segments_end_minus_one_and_overshoot(tmp_path):
    p = tmp_path / "rec.wav"
    x = (np.arange(16000) % 200 / 400).astype(np.float32)
    sf.write(p, x, 16000, subtype="FLOAT")
    r = AudioReader(seg_dir(tmp_path, str(p), [("a-1", 0.5, -1), ("a-2", 0.25, 1.3), ("a-3", 0.2, 0.3)]))
    np.testing.assert_array_equal(r.read("a-1"), x[8000:])
    np.testing.assert_array_equal(r.read("a-2"), x[4000:])  # 0.3 s overshoot: clipped
    np.testing.assert_array_equal(r.read("a-3"), x[3200:4800])


def test_segment_far_past_the_end_is_an_error(tmp_path):
    p = tmp_path / "rec.wav"
    sf.write(p, np.zeros(16000, np.float32), 16000)
    r = AudioReader(seg_dir(tmp_path, str(p), [("a-1", 0.5, 2.0)]))
    with pytest.raises(E2VError, match=r"a-1.*past the end of the recording \(1.000 s\)"):
        r.read("a-1")


def test_segment_of_unknown_recording(tmp_path):
    d = seg_dir(tmp_path, "/x.wav", [("a-1", 0, 1)])
    (d / "segments").write_text("a-1 rec9 0 1\n")
    with pytest.raises(E2VError, match="utterance a-1: recording 'rec9' is not in"):
        AudioReader(d)


def test_bad_segment_times(tmp_path):
    with pytest.raises(E2VError, match="a-1: bad segment times"):
        AudioReader(seg_dir(tmp_path, "/x.wav", [("a-1", 1.0, 0.5)]))


def test_recording_decoded_once_for_consecutive_segments(tmp_path, forms):
    wav = forms["file"].parent / "wav" / "spk1-u01.wav"
    count = tmp_path / "count"
    r = AudioReader(seg_dir(tmp_path, f"echo x >> {count}; cat {wav} |",
                            [(f"a-{i}", 0.1 * i, 0.1 * i + 0.1) for i in range(1, 5)]))
    got = [w for _, w in r]
    assert len(got) == 4 and all(len(w) == 1600 for w in got)
    assert count.read_text() == "x\n"


def test_unknown_utterance(forms):
    with pytest.raises(E2VError, match="utterance nobody: not in"):
        AudioReader(forms["file"]).read("nobody")
