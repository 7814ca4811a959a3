"""Look-alike corpus trees in the real layouts (tiny audio), shared by tests/corpora and tests/egs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import soundfile as sf

REPO = Path(__file__).resolve().parents[2]


def tone(path: Path, seconds: float = 0.1, sr: int = 16000, fmt: str = "WAV") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(seconds * sr)) / sr
    sf.write(str(path), (0.1 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), sr,
             format=fmt, subtype="PCM_16")


def read_dir(d: Path) -> dict:
    """Every file of a data dir (recursively) as {relative path: text}."""
    return {str(p.relative_to(d)): p.read_text() for p in sorted(d.rglob("*")) if p.is_file()}


def run_prep(corpus: str, *args, cwd=None) -> subprocess.CompletedProcess:
    """Run `python -m emotion2vec.corpora.<corpus>` as the recipes do (a separate process)."""
    return subprocess.run([sys.executable, "-m", f"emotion2vec.corpora.{corpus}", *map(str, args)],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd)


# ---------------------------------------------------------------------------------- IEMOCAP
IEMOCAP_HEADER = "% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]\n\n"


def iemocap_block(start, end, utt, label, vad=("2.5000", "3.0000", "3.5000")):
    return (f"[{start:.4f} - {end:.4f}]\t{utt}\t{label}\t[{vad[0]}, {vad[1]}, {vad[2]}]\n"
            f"C-E2:\tNeutral;\t()\nC-E3:\tAnger;\t()\nA-E3:\tval 3; act 2; dom  2;\t()\n\n")


# session -> dialog -> [(start, end, utt, label)]
IEMOCAP_DIALOGS = {
    1: {"Ses01F_impro01": [(0.5, 0.6, "Ses01F_impro01_F000", "neu"),
                           (0.7, 0.8, "Ses01F_impro01_M013", "exc"),
                           (0.9, 1.0, "Ses01F_impro01_F001", "fru")],
        "Ses01F_script01_1b": [(0.1, 0.2, "Ses01F_script01_1b_M000", "ang"),
                               (0.3, 0.4, "Ses01F_script01_1b_F002", "xxx")],
        "Ses01M_impro05a": [(0.2, 0.3, "Ses01M_impro05a_F010", "sad"),
                            (0.4, 0.5, "Ses01M_impro05a_M003", "hap")]},
    2: {"Ses02M_impro08b": [(0.1, 0.2, "Ses02M_impro08b_M001", "neu"),
                            (0.3, 0.4, "Ses02M_impro08b_F000", "exc")]},
    3: {"Ses03F_script02_2": [(0.1, 0.2, "Ses03F_script02_2_F000", "sad")]},
    4: {"Ses04M_impro03": [(0.1, 0.2, "Ses04M_impro03_M000", "ang")]},
    5: {"Ses05F_impro05b": [(0.1, 0.2, "Ses05F_impro05b_F000", "neu"),
                            (0.3, 0.4, "Ses05F_impro05b_M000", "sur")]},
}


def make_iemocap(root: Path) -> Path:
    top = root / "IEMOCAP_full_release"
    for n, dialogs in IEMOCAP_DIALOGS.items():
        s = top / f"Session{n}"
        ev = s / "dialog" / "EmoEvaluation"
        ev.mkdir(parents=True)
        for dialog, lines in dialogs.items():
            text = IEMOCAP_HEADER + "".join(iemocap_block(*ln) for ln in lines)
            (ev / f"{dialog}.txt").write_text(text)
            tone(s / "dialog" / "wav" / f"{dialog}.wav", seconds=1.2)
            for ln in lines:
                tone(s / "sentences" / "wav" / dialog / f"{ln[2]}.wav")
        # pitfalls: evaluator sub-folders and AppleDouble copies must be skipped
        for sub in ("Categorical", "Attribute", "Self-evaluation"):
            (ev / sub).mkdir()
            (ev / sub / f"{next(iter(dialogs))}_e1_cat.txt").write_text(
                "[0.1 - 0.2]\tbogus\tnonsense\n")
        (ev / f"._{next(iter(dialogs))}.txt").write_bytes(b"\x00\x05\x16\x07[binary junk")
    return top



# ------------------------------------------------------------------------------------ EmoDB
EMODB_FILES = ["03a01Fa", "03a01Wa", "08b02Nb", "08a05Lc", "10a04Ed", "11b09Aa", "13a07Ta",
               "16b10Wb", "12b03Fd"]
# name -> 'erkannt' (listener recognition, %)
EMODB_RATES = {"03a01Fa": "90,1", "03a01Wa": "100", "08b02Nb": "55,5", "08a05Lc": "80",
               "10a04Ed": "79,9", "11b09Aa": "95", "13a07Ta": "85,2", "16b10Wb": "60",
               "12b03Fd": "81"}


def make_ravdess(root: Path, actors=(1, 2, 3, 4, 5, 6, 7, 8)) -> Path:
    """Actor_NN/03-01-EE-II-SS-RR-NN.flac for every emotion (neutral normal only), one
    repetition, both statements; plus a song file (02 vocal channel) that must be ignored and
    one byte-identical copy (as in the real Actor_07)."""
    top = root / "ravdess"
    for a in actors:
        d = top / f"Actor_{a:02d}"
        for e in range(1, 9):
            for i in ((1,) if e == 1 else (1, 2)):
                for st in (1, 2):
                    # a length of its own: no two files are byte-identical by accident
                    n = 1600 + 17 * e + 5 * st + 3 * i + 200 * a
                    tone(d / f"03-01-{e:02d}-{i:02d}-{st:02d}-01-{a:02d}.flac",
                         seconds=n / 16000, fmt="FLAC")
        tone(d / f"03-02-03-01-01-01-{a:02d}.flac", fmt="FLAC")  # song: not speech
    d = top / "Actor_07"
    if d.is_dir():
        (d / "03-01-03-01-02-02-07.flac").write_bytes(
            (d / "03-01-03-01-02-01-07.flac").read_bytes())
    return top


def make_emodb(root: Path) -> Path:
    top = root / "emodb"
    for name in EMODB_FILES:
        tone(top / "wav" / f"{name}.wav")
    lines = ["Satz\tEmotion\terkannt\tNat\u00fcrlichkeit"]
    lines += [f"{n}.wav\t{n[5]}\t{EMODB_RATES[n]}\t\u00a070,0" for n in sorted(EMODB_FILES)]
    (top / "erkennung.txt").write_bytes(("\r\n".join(lines) + "\r\n").encode("latin-1"))
    (top / "erklaerung.txt").write_text("...")
    return top



# --------------------------------------------------------------------------------- THAI SER
def thai_entry(votes, assigned="Happy"):
    return [{"assigned_emo": assigned, "majority_emo": "Neutral", "agreement": 0.5,
             "annotated": votes}]


# file name -> (relative folder, votes)
THAI_FILES = {
    "s001_con_actor001_impro1_1.flac": ("studio1-10/studio001/con", [["Neutral"]] * 3),
    "s001_clip_actor001_impro1_1.flac": ("studio1-10/studio001/clip", [["Neutral"]] * 3),
    "s001_con_actor001_impro1_2.flac": ("studio1-10/studio001/con", [["Happy"], ["Sad"]]),
    "s071_con_actor002_script1_1.flac": ("studio071/con",
                                         [["Angry", "Frustrated"], ["Angry"], ["angry"]]),
    "s071_con_actor002_script1_2.flac": ("studio071/con", [["Angry"], ["Sad"], ["Angry"]]),
    "s076_con_actor002_impro3_7.flac": ("studio71-80/studio076/con",
                                        [["Sad"], [None], ["Sad", None]]),
    "s076_con_actor002_impro3_8.flac": ("studio71-80/studio076/con", [["Other"]] * 3),
    "s076_con_actor001_impro3_9.flac": ("studio71-80/studio076/con", [["Frustrated"]] * 4),
    "z001_mic_actor003_script1_1.flac": ("zoom1-10/zoom001/mic", [["Happy"]] * 2),
}


def make_thai(root: Path) -> Path:
    import json
    top = root / "thai_ser"
    for name, (folder, _) in THAI_FILES.items():
        tone(top / folder / name, seconds=0.05, sr=44100, fmt="FLAC")
    (top / "emotion_label.json").write_text(json.dumps(
        {name: thai_entry(votes) for name, (_, votes) in THAI_FILES.items()}))
    (top / "actor_demography.json").write_text(json.dumps({"data": [
        {"Actor's ID": "1", "Sex": "Male", "Age": 30},
        {"Actor's ID": 2, "Sex": "Female", "Age": 25},
        {"Actor's ID": "3", "Sex": "Female", "Age": 41}]}))
    return top



# ----------------------------------------------------------------------------------- EmoBox
def _jsonl(path: Path, recs) -> None:
    import json
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in recs))


EMOBOX_EMODB = [  # (name, speaker, raw label as in the jsonl)
    ("03a01Wa", "03", "anger"), ("03a02Nb", "03", "neutral"), ("08a01Lb", "08", "boredom"),
    ("08b01Na", "08", "neutral"), ("10a04Wa", "10", "anger"), ("10b02Lc", "10", "boredom"),
    ("11a01Na", "11", "neutral"), ("11b09Wc", "11", "anger")]


def make_emobox(root: Path) -> Path:
    top = root / "EmoBox"
    d = top / "data" / "emodb"
    recs = []
    for name, spk, emo in EMOBOX_EMODB:
        wav = f"downloads/emodb/wav/{name}.wav"
        tone(top / wav)
        recs.append({"key": f"emodb-{name}", "dataset": "emodb", "wav": wav, "type": "raw",
                     "sample_rate": 16000, "num_frame": 1600.0, "task": "category",
                     "length": 0.1, "emo": emo, "channel": 1})
    _jsonl(d / "emodb.jsonl", recs)
    # the shipped map's defects: 'boredem' typo and 'Neutral' while the data says 'neutral'
    (d / "label_map.json").write_text(
        '{\n "anger": "Angry",\n "boredem": "Boredom",\n "Neutral": "Neutral"\n}')
    (d / "data.seg.wrd.stm").write_text("".join(
        f"emodb-{n} 1 {s} 0 0.1 <id=emodb-{n},lang=de,spk={s},emotion={e[0]}> {e[0]}\n"
        for n, s, e in EMOBOX_EMODB))
    for k, test_spk in ((1, "11"), (2, "03")):
        _jsonl(d / f"fold_{k}" / f"emodb_train_fold_{k}.jsonl",
               [r for r, (_, s, _) in zip(recs, EMOBOX_EMODB) if s != test_spk])
        _jsonl(d / f"fold_{k}" / f"emodb_test_fold_{k}.jsonl",
               [r for r, (_, s, _) in zip(recs, EMOBOX_EMODB) if s == test_spk])
    # segments of long files (as PAVOQUE ships), no STM, an official valid set
    p = top / "data" / "pavoque"
    tone(top / "downloads/pavoque/obadiah-angry.wav", seconds=1.0, sr=44100)
    tone(top / "downloads/pavoque/obadiah-sad.wav", seconds=1.0, sr=44100)
    precs = [{"key": f"pavoque-{emo}-{i}", "wav": f"downloads/pavoque/obadiah-{emo}.wav",
              "sample_rate": 44100, "length": 0.2, "emo": emo, "start_time": 0.25 * i,
              "end_time": 0.25 * i + 0.2} for emo in ("angry", "sad") for i in range(3)]
    _jsonl(p / "pavoque.jsonl", precs)
    (p / "label_map.json").write_text('{"angry": "Angry", "sad": "Sad"}')
    _jsonl(p / "fold_1" / "pavoque_train_fold_1.jsonl", precs[0:2] + precs[3:5])
    _jsonl(p / "fold_1" / "pavoque_valid_fold_1.jsonl", [precs[2]])
    _jsonl(p / "fold_1" / "pavoque_test_fold_1.jsonl", [precs[5]])
    # cross-corpus track
    for lab, utt in (("happy", "Ses02F_impro03_F019"), ("sad", "Ses01M_script01_1_M002")):
        tone(root / "track2_audio" / lab / f"{utt}.wav")
    _jsonl(top / "data" / "track2" / "IEMOCAP_selected_balenced.jsonl", [
        {"wav_filename": "happy/Ses02F_impro03_F019.wav", "label": "happy", "speaker": "02F"},
        {"wav_filename": "sad/Ses01M_script01_1_M002.wav", "label": "Sad", "speaker": "01M"}])
    return top

