"""emotion2vec.audio: truncated audio is an error naming the utterance (a file, a pipe or an
archive entry whose WAVE / NIST header declares more than it holds; a decoded duration that
disagrees with utt2dur / reco2dur), while streamed headers of unknown size still read."""

import io
import shutil
import struct

import numpy as np
import pytest
import soundfile as sf

from emotion2vec.audio import AudioReader, read_entry
from emotion2vec.errors import E2VError

RATE = 16000
needs_sox = pytest.mark.skipif(not shutil.which("sox"), reason="needs sox")


def wav_bytes(seconds=1.0, channels=1, fmt="WAV", subtype="PCM_16", endian="FILE", rate=RATE):
    n = int(round(seconds * rate))
    x = (0.3 * np.sin(np.arange(n)[:, None] * 0.01 * np.arange(1, channels + 1))).astype("float32")
    buf = io.BytesIO()
    sf.write(buf, x, rate, format=fmt, subtype=subtype, endian=endian)
    return buf.getvalue()


def data_offset(riff):
    return riff.index(b"data") + 8


def cut(riff, keep_samples, block=2):
    """The header (sizes untouched) and only `keep_samples` frames of data."""
    return riff[:data_offset(riff) + keep_samples * block]


def with_data_size(riff, size):
    i = riff.index(b"data")
    return riff[:i + 4] + struct.pack("<I", size) + riff[i + 8:]


def one_utt_dir(tmp_path, entry, utt="spk1-a", **files):
    d = tmp_path / "data"
    d.mkdir(exist_ok=True)
    (d / "wav.scp").write_text(f"{utt} {entry}\n")
    for name, text in files.items():
        (d / name).write_text(text)
    return d


def read_error(tmp_path, entry, utt="spk1-a", **files):
    with pytest.raises(E2VError) as e:
        AudioReader(one_utt_dir(tmp_path, entry, utt, **files)).read(utt)
    return str(e.value)


def test_truncated_file_is_an_error(tmp_path):
    wav = tmp_path / "short.wav"
    wav.write_bytes(cut(wav_bytes(1.0), 4960))
    assert read_error(tmp_path, str(wav)) == (
        f"utterance spk1-a: truncated audio: header declares 16000 samples (1.000 s), "
        f"file {wav} holds 4960 (0.310 s)")


@pytest.mark.parametrize("stage", ["cat {w} |", "head -c 3000 {full} |",
                                   pytest.param("sox {w} -t wav - |", marks=needs_sox)])
def test_truncated_pipe_is_an_error(tmp_path, stage):
    """Every stage exits 0 (sox only warns 'Premature EOF' and copies the header's length)."""
    full, w = tmp_path / "full.wav", tmp_path / "short.wav"
    full.write_bytes(wav_bytes(1.0))
    w.write_bytes(cut(wav_bytes(1.0), 4960))
    entry = stage.format(w=w, full=full)
    msg = read_error(tmp_path, entry)
    assert msg.startswith("utterance spk1-a: truncated audio: header declares 16000 samples "
                          "(1.000 s), the output of ")
    assert repr(entry[:-1].strip()) in msg
    assert msg.endswith("holds 1478 (0.092 s)" if "head" in stage else "holds 4960 (0.310 s)")


def test_truncated_wave_in_an_archive_is_an_error(tmp_path):
    """A cut WAVE stored whole in an ark (RIFF size matching the bytes there, data chunk not)."""
    short = cut(wav_bytes(1.0), 4960)
    riff = b"RIFF" + struct.pack("<I", len(short) - 8) + short[8:]
    ark = tmp_path / "w.ark"
    ark.write_bytes(b"spk1-a " + riff)
    assert read_error(tmp_path, f"{ark}:7") == (
        f"utterance spk1-a: truncated audio: header declares 16000 samples (1.000 s), "
        f"the wave object at offset 7 of {ark} holds 4960 (0.310 s)")


@pytest.mark.parametrize("fmt,subtype,endian,channels,block", [
    ("WAV", "PCM_16", "BIG", 1, 2),      # RIFX
    ("RF64", "PCM_16", "FILE", 2, 4),    # sizes in the ds64 chunk
    ("WAVEX", "PCM_24", "FILE", 2, 6),   # WAVE_FORMAT_EXTENSIBLE
    ("WAV", "FLOAT", "FILE", 1, 4),      # a 'fact' chunk before 'data'
    ("WAV", "ULAW", "FILE", 1, 1),
])
def test_wave_variants(tmp_path, fmt, subtype, endian, channels, block):
    full = wav_bytes(0.5, channels, fmt, subtype, endian)
    wav = tmp_path / "x.wav"
    wav.write_bytes(full)
    x, rate = read_entry(str(wav), "u")
    assert x.shape == (8000, channels) and rate == RATE
    wav.write_bytes(cut(full, 3000, block))
    with pytest.raises(E2VError, match=r"^u: truncated audio: header declares 8000 samples "
                                       r"\(0.500 s\), file .* holds 3000 \(0.188 s\)$"):
        read_entry(str(wav), "u")


def test_compressed_wave_is_compared_in_bytes(tmp_path):
    full = wav_bytes(0.5, subtype="IMA_ADPCM")
    n = struct.unpack("<I", full[data_offset(full) - 4:data_offset(full)])[0]
    wav = tmp_path / "x.wav"
    wav.write_bytes(full[:data_offset(full) + 1000])
    with pytest.raises(E2VError, match=rf"^u: truncated audio: header declares {n} bytes of "
                                       rf"audio data, file .* holds 1000$"):
        read_entry(str(wav), "u")


def test_truncated_nist_sphere(tmp_path):
    """TIMIT / WSJ style .sph files, read directly (libsndfile) or converted in a pipe."""
    sph = tmp_path / "x.sph"
    buf = io.BytesIO()
    sf.write(buf, np.zeros((8000, 2), np.float32), RATE, format="NIST", subtype="PCM_16")
    full = buf.getvalue()
    assert full.startswith(b"NIST_1A\n   1024\n") and b"sample_count -i 8000" in full
    sph.write_bytes(full)
    assert read_entry(str(sph), "u")[0].shape == (8000, 2)
    sph.write_bytes(full[:1024 + 4 * 3000])
    with pytest.raises(E2VError, match=r"^u: truncated audio: header declares 8000 samples "
                                       r"\(0.500 s\), file .* holds 3000 \(0.188 s\)$"):
        read_entry(str(sph), "u")
    if shutil.which("sox"):  # a sph2pipe-like converter copies the header's length
        with pytest.raises(E2VError, match="header declares 8000 samples .* the output of"):
            read_entry(f"sox -t sph {sph} -t wav - |", "u")


def test_odd_sized_chunk_before_data_is_padded(tmp_path):
    """A 5-byte 'LIST' chunk plus its pad byte sits between 'fmt ' and 'data'."""
    full = wav_bytes(0.5, subtype="PCM_U8")
    i = full.index(b"data")
    odd = full[:i] + b"LIST" + struct.pack("<I", 5) + b"INFO\0\0" + full[i:]
    odd = odd[:4] + struct.pack("<I", len(odd) - 8) + odd[8:]
    wav = tmp_path / "x.wav"
    wav.write_bytes(odd)
    assert len(read_entry(str(wav), "u")[0]) == 8000
    wav.write_bytes(cut(odd, 100, 1))
    with pytest.raises(E2VError, match="header declares 8000 samples .* holds 100 "):
        read_entry(str(wav), "u")


@pytest.mark.parametrize("size", [0xFFFFFFFF, 0x7FFFF000, 0x7FFFEFFC])
def test_unknown_size_headers_read_to_the_end(tmp_path, size):
    """Streamed writers' placeholders (ffmpeg 0xFFFFFFFF; sox and espeak-ng 0x7FFFF000,
    rounded to the block) are no truncation, while a real size past the end is."""
    streamed = with_data_size(wav_bytes(1.0), size)[:data_offset(wav_bytes(1.0)) + 9920]
    wav = tmp_path / "s.wav"
    wav.write_bytes(streamed)
    for entry in (str(wav), f"cat {wav} |"):
        assert len(read_entry(entry, "u")[0]) == 4960
    wav.write_bytes(with_data_size(streamed, 9922))
    with pytest.raises(E2VError, match="header declares 4961 samples"):
        read_entry(str(wav), "u")


@needs_sox
@pytest.mark.parametrize("pipe,short_pipe", [
    # sox: 0x7FFFF000 (size unknown): only utt2dur can tell the cut input
    ("sox {full} -t wav - trim 0 0.5 |", "sox {short} -t wav - trim 0 0.5 |"),
    # sox: 0x7FFFEFFC (rounded down to 6-byte frames)
    ("sox {full} -b 24 -t wav - speed 1.1 |", "sox {short} -b 24 -t wav - speed 1.1 |"),
    # sox: an exact size, from the input's header, also for the cut input
    ("sox {full} -r 8000 -t wav - |", "sox {short} -r 8000 -t wav - |"),
    # espeak-ng: 0x7FFFF000
    ("espeak-ng --stdout hello there |",
     "espeak-ng --stdout hello there | (head -c 20000; cat >/dev/null) |"),
])
def test_ordinary_pipes_read_and_their_cut_output_does_not(tmp_path, pipe, short_pipe):
    if "espeak" in pipe and not shutil.which("espeak-ng"):
        pytest.skip("needs espeak-ng")
    full, short = tmp_path / "full.wav", tmp_path / "short.wav"
    full.write_bytes(wav_bytes(1.0))
    short.write_bytes(cut(wav_bytes(1.0), 4960))
    x, rate = read_entry(pipe.format(full=full), "u")
    assert len(x) > 0.4 * rate
    utt2dur = f"spk1-a {len(x) / rate}\n"
    assert len(AudioReader(one_utt_dir(tmp_path, pipe.format(full=full), utt2dur=utt2dur))
               .read("spk1-a")) == round(len(x) * RATE / rate)
    msg = read_error(tmp_path, short_pipe.format(short=short), utt2dur=utt2dur)
    assert msg.startswith("utterance spk1-a: ")
    assert ("truncated audio: header declares 8000 samples" in msg if "-r 8000" in pipe
            else "utt2dur says" in msg)


def test_flac_decoding_fewer_samples_than_streaminfo(tmp_path, monkeypatch):
    """libsndfile usually fails on a cut FLAC itself; a decoder stopping quietly is caught."""
    flac = tmp_path / "x.flac"
    sf.write(flac, np.zeros(16000, np.float32), RATE, subtype="PCM_16")
    read = sf.SoundFile.read
    monkeypatch.setattr(sf.SoundFile, "read", lambda self, *a, **k: read(self, *a, **k)[:4960])
    with pytest.raises(E2VError, match=r"^u: truncated audio: header declares 16000 samples "
                                       r"\(1.000 s\), decoded 4960 \(0.310 s\)$"):
        read_entry(str(flac), "u")


@needs_sox
def test_utt2dur_is_checked(tmp_path):
    """A pipe whose header cannot say its length (sox trim: 0x7FFFF000) delivering 0.31 s of
    a 1 s utterance: only utt2dur can tell."""
    full = tmp_path / "full.wav"
    full.write_bytes(wav_bytes(1.0))
    pipe = f"sox {full} -t wav - trim 0 0.31 |"
    msg = read_error(tmp_path, pipe, utt2dur="spk1-a 1.0\n")
    d = tmp_path / "data"
    assert msg == (f"utterance spk1-a: decoded audio is 0.310 s (4960 samples at 16000 Hz) but "
                   f"{d}/utt2dur says 1.000 s")
    # tolerance: one 10 ms frame (Kaldi's `(num_frames + 1.5) * 0.01` is up to 10 ms short)
    for dur in ("0.3", "0.319", "0.30"):
        (d / "utt2dur").write_text(f"spk1-a {dur}\n")
        assert len(AudioReader(d).read("spk1-a")) == 4960
    for dur in ("0.321", "0.299"):
        (d / "utt2dur").write_text(f"spk1-a {dur}\n")
        with pytest.raises(E2VError, match="decoded audio is 0.310 s"):
            AudioReader(d).read("spk1-a")
    (d / "utt2dur").write_text("spk1-a long\n")
    with pytest.raises(E2VError, match="utt2dur: 'spk1-a': duration is not a number"):
        AudioReader(d)


def segments_dir(tmp_path, riff, segments, **files):
    rec = tmp_path / "rec.wav"
    rec.write_bytes(riff)
    return one_utt_dir(tmp_path, str(rec), "rec", segments=segments, **files)


def test_truncated_recording_is_caught_before_the_segment_is_cut(tmp_path):
    """The recording's header says 2 s, it holds 1 s: a segment inside the first second and
    one ending within MAX_SEGMENT_OVERSHOOT of the delivered end are both errors."""
    d = segments_dir(tmp_path, cut(wav_bytes(2.0), 16000),
                     "spk1-a rec 0.1 0.5\nspk1-b rec 0.6 1.3\n")
    r = AudioReader(d)
    for utt in ("spk1-a", "spk1-b"):
        with pytest.raises(E2VError, match=rf"^utterance {utt} \(recording rec\): truncated "
                                           r"audio: header declares 32000 samples \(2.000 s\), "
                                           r"file .*rec.wav holds 16000 \(1.000 s\)$"):
            r.read(utt)


def test_segments_against_utt2dur_and_reco2dur(tmp_path):
    d = segments_dir(tmp_path, wav_bytes(1.0), "spk1-a rec 0.1 0.5\nspk1-b rec 0.6 1.3\n",
                     utt2dur="spk1-a 0.6\nspk1-b 0.7\n")
    r = AudioReader(d)
    with pytest.raises(E2VError, match=r"^utterance spk1-a \(recording rec\): decoded audio is "
                                       r"0.400 s .*/utt2dur says 0.600 s$"):
        r.read("spk1-a")
    # spk1-b ends 0.3 s past the recording: clipped by design (the overshoot rule), while
    # utt2dur (end - start) says 0.7 s
    assert len(r.read("spk1-b")) == 6400
    (d / "utt2dur").write_text("spk1-a 0.4\nspk1-b 0.7\n")
    (d / "reco2dur").write_text("rec 2.0\n")
    with pytest.raises(E2VError, match=r"^utterance spk1-a \(recording rec\): decoded audio is "
                                       r"1.000 s .*/reco2dur says 2.000 s$"):
        AudioReader(d).read("spk1-a")
    (d / "reco2dur").write_text("rec 1.0\n")
    assert len(AudioReader(d).read("spk1-a")) == 6400
