"""Bad inputs: one clear message naming the utterance, exit 1; --skip-bad goes on."""

import numpy as np
import pytest
import soundfile as sf


@pytest.fixture
def bad_data(tmp_path, audio_data):
    """The audio data dir plus a missing file, an empty file, a failing pipe, a 10 ms file."""
    d = tmp_path / "bad"
    d.mkdir()
    sf.write(tmp_path / "empty.wav", np.zeros(0, np.float32), 16000)
    sf.write(tmp_path / "tiny.wav", np.zeros(160, np.float32), 16000)
    lines = (audio_data / "wav.scp").read_text().splitlines()
    lines += [f"spk9-empty {tmp_path / 'empty.wav'}", f"spk9-gone {tmp_path / 'gone.wav'}",
              "spk9-pipe false |", f"spk9-tiny {tmp_path / 'tiny.wav'}"]
    (d / "wav.scp").write_text("".join(f"{x}\n" for x in sorted(lines)))
    return d


def test_bad_utterance_stops_the_run_naming_it(bad_data, plus_model, tmp_path, infer_cli):
    code, err = infer_cli(["--model", plus_model, "--no-progress", bad_data, tmp_path / "o"])
    assert code == 1
    assert err.startswith("infer: error: utterance spk9-empty") and "empty" in err
    assert not (tmp_path / "o" / "utt2emo").exists()


def test_skip_bad_lists_every_bad_utterance_and_scores_the_rest(bad_data, plus_model, tmp_path,
                                                                infer_cli):
    out = tmp_path / "o"
    code, err = infer_cli(["--model", plus_model, "--skip-bad", "--no-progress", bad_data, out])
    assert code == 0, err
    bad = dict(line.split(" ", 1) for line in (out / "bad_utts").read_text().splitlines())
    assert sorted(bad) == ["spk9-empty", "spk9-gone", "spk9-pipe", "spk9-tiny"]
    assert "no such file" in bad["spk9-gone"]
    assert "exit status 1" in bad["spk9-pipe"]
    assert "too short to score (160 samples" in bad["spk9-tiny"]
    labelled = [line.split()[0] for line in (out / "utt2emo").read_text().splitlines()]
    assert len(labelled) == 7 and not set(labelled) & set(bad)
    assert "skipping: utterance spk9-gone" in err


@pytest.mark.parametrize("args,msg", [
    (["--segment-shift", "1"], "--segment-shift needs --segment-length"),
    (["--segment-length", "-3"], "must not be negative"),
    (["--fold", "2"], "--fold applies to trained heads"),
    (["--model-window", "3"], "--model-window applies to Hugging Face models only"),
])
def test_option_errors(args, msg, plus_model, audio_data, tmp_path, infer_cli):
    code, err = infer_cli(["--model", plus_model, *args, "--no-progress", audio_data,
                           tmp_path / "o"])
    assert code == 1 and msg in err


def test_model_errors(tmp_path, audio_data, exp_dir, infer_cli):
    from emotion2vec.testing.tiny import make_tiny_checkpoint

    base = make_tiny_checkpoint(tmp_path / "base.pt", fmt="fairseq")
    code, err = infer_cli(["--model", base, "--no-progress", audio_data, tmp_path / "o"])
    assert code == 1 and "no class head" in err
    code, err = infer_cli(["--model", exp_dir, "--fold", "7", "--no-progress", audio_data,
                           tmp_path / "o"])
    assert code == 1 and "no fold7 (has fold1, fold2)" in err
    code, err = infer_cli(["--no-progress", audio_data, tmp_path / "o"])
    assert code == 1 and "--model is required" in err
    code, err = infer_cli(["--model", base, "--no-progress", tmp_path / "nowhere.wav",
                           tmp_path / "o"])
    assert code == 1 and "nowhere.wav: no such audio file" in err


def test_duplicate_file_ids_are_refused(tmp_path, audio_data, plus_model, infer_cli):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    src = audio_data.parent / "wavs" / "spk1-a.wav"
    (a / "x.wav").write_bytes(src.read_bytes())
    (b / "x.wav").write_bytes(src.read_bytes())
    code, err = infer_cli(["--model", plus_model, "--no-progress", a / "x.wav", b / "x.wav",
                           tmp_path / "o"])
    assert code == 1 and "utterance id 'x' also comes from" in err
