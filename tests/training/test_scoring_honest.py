"""Scoring that does not lie: labels outside the inventory, empty hypothesis files, classes
without training utterances (steps/score.sh, emotion2vec.bin.score, train_cv_merge)."""

import contextlib
import io
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from helpers.traincorpus import make_corpus, run_entry_point

REPO = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
CLASSES = ["ang", "hap", "neu", "sad"]


def py(module, *args):
    """An entry point run in this process: (exit status, stdout, stderr)."""
    r = run_entry_point(module, *args)
    return r.returncode, r.stdout, r.stderr


@pytest.fixture
def refhyp(tmp_path):
    """A reference of 12 utterances (3 per class) and a perfect hypothesis file."""
    utts = [f"spk{i % 3}-u{i:02d}" for i in range(12)]
    ref = {u: CLASSES[i % 4] for i, u in enumerate(sorted(utts))}
    (tmp_path / "utt2emo").write_text("".join(f"{u} {v}\n" for u, v in sorted(ref.items())))
    (tmp_path / "emotions.txt").write_text("".join(c + "\n" for c in CLASSES))

    def write_hyp(changes=None, name="hyp"):
        h = dict(ref, **(changes or {}))
        p = tmp_path / name
        p.write_text("".join(f"{u} {v}\n" for u, v in h.items()))
        return p
    return tmp_path, ref, write_hyp


def test_unknown_hypothesis_label_is_an_error_naming_line_utt_label_inventory(refhyp):
    d, ref, write_hyp = refhyp
    u = sorted(ref)[4]
    hyp = write_hyp({u: "oth"})
    r = subprocess.run([str(REPO / "steps/score.sh"), d / "utt2emo", hyp, d / "out"], env=ENV,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 1, r.stdout
    assert (f"{hyp}:5: utterance '{u}': hypothesis label 'oth' is not in the class inventory "
            f"(the labels of {d / 'utt2emo'}: ang hap neu sad); if it is a real class, pass "
            "the inventory with --classes FILE; pass --allow-unknown-labels true to count such "
            "hypotheses as wrong answers") in r.stderr
    assert not (d / "out" / "results.json").exists()
    # With --classes the inventory named is that file, and the line is still given.
    code, out, err = py("score", "--classes", d / "emotions.txt", d / "utt2emo", hyp)
    assert code == 1
    assert (f"{hyp}:5: utterance '{u}': hypothesis label 'oth' is not in the class inventory "
            f"(--classes {d / 'emotions.txt'}: ang hap neu sad); pass --allow-unknown-labels "
            "true") in err


def test_several_unknown_labels_are_all_named(refhyp):
    d, ref, write_hyp = refhyp
    us = sorted(ref)
    hyp = write_hyp({us[1]: "oth", us[7]: "fru", us[9]: "oth"})
    code, out, err = py("score", d / "utt2emo", hyp)
    assert code == 1
    assert f"{hyp}:2: utterance '{us[1]}'" in err
    assert "(3 hypotheses in all have labels outside it: fru, oth)" in err


def test_allow_unknown_labels_counts_them_wrong_and_says_so(refhyp):
    d, ref, write_hyp = refhyp
    us = sorted(ref)
    # The same answers, once with a wrong known label, once with labels outside the inventory.
    wrong = write_hyp({us[0]: "hap", us[5]: "ang"}, name="wrong")
    unknown = write_hyp({us[0]: "oth", us[5]: "fru"}, name="unknown")
    code, out_w, err = py("score", d / "utt2emo", wrong, d / "w")
    assert code == 0, err
    r = subprocess.run([str(REPO / "steps/score.sh"), "--allow-unknown-labels", "true",
                        d / "utt2emo", unknown, d / "u"], env=ENV, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    rw = json.loads((d / "w" / "results.json").read_text())
    ru = json.loads((d / "u" / "results.json").read_text())
    # WA = 10/12 either way; the inventory stays the reference's 4 classes (no extra class).
    assert ru["pooled"]["wa"] == rw["pooled"]["wa"] == pytest.approx(100 * 10 / 12, abs=1e-3)
    assert ru["classes"] == CLASSES and ru["pooled"]["recall"]["ang"] == pytest.approx(100 * 2 / 3)
    assert ru["num_unknown"] == 2 and ru["unknown"] == {us[0]: "oth", us[5]: "fru"}
    assert ru["folds"][0]["num_unknown"] == 2 and rw["num_unknown"] == 0
    assert ru["settings"]["allow_unknown_labels"] is True
    assert ru["warnings"] == ["2 hypothesis label(s) outside the class inventory were counted "
                              "as wrong answers (--allow-unknown-labels true): 'fru' x1, "
                              "'oth' x1"]
    assert "2 unknown labels counted wrong" in r.stdout
    assert f"{us[0]}:oth" in r.stdout and f"{us[5]}:fru" in r.stdout
    summary = (d / "u" / "summary.md").read_text()
    assert "## Warnings" in summary
    assert "2 hypothesis label(s) outside the class inventory" in summary
    conf = (d / "u" / "confusion.txt").read_text().splitlines()
    assert conf[1].split() == ["ref\\hyp", *CLASSES, "<unknown>", "total"]
    assert conf[2].split() == ["ang", "2", "0", "0", "0", "1", "3"]


@pytest.mark.parametrize("content,why", [
    ("", "it is empty or holds only comments"),
    ("# my system\n\n", "it is empty or holds only comments"),
    ("# utt reference hypothesis p(ang)\nspk0-u00 ang <missing>\n", "all 1 line(s) say <missing>"),
])
def test_hypothesis_file_without_predictions_is_an_error(refhyp, content, why):
    d, ref, _ = refhyp
    hyp = d / "hyp"
    hyp.write_text(content)
    code, out, err = py("score", d / "utt2emo", hyp, d / "out")
    assert code == 1, out
    assert f"{hyp}: no predictions in the file ({why}): nothing to score" in err
    assert not (d / "out").exists() and "WA" not in out


def test_empty_reference_and_invalid_utf8_hypothesis(refhyp):
    d, ref, write_hyp = refhyp
    (d / "empty").write_text("")
    code, _, err = py("score", d / "empty", write_hyp())
    assert code == 1 and f"{d / 'empty'}: no reference utterances" in err
    hyp = d / "hyp"
    hyp.write_bytes(b"spk0-u00 an\xffg\n")
    code, _, err = py("score", d / "utt2emo", hyp)
    assert code == 1 and f"{hyp}:1: 'spk0-u00': not valid UTF-8 (byte 0xff" in err


def test_reference_label_outside_classes_names_the_line(refhyp):
    d, ref, write_hyp = refhyp
    (d / "three.txt").write_text("ang\nhap\nneu\n")
    code, _, err = py("score", "--classes", d / "three.txt", d / "utt2emo", write_hyp())
    assert code == 1
    first_sad = next(i for i, u in enumerate(sorted(ref), 1) if ref[u] == "sad")
    assert (f"{d / 'utt2emo'}:{first_sad}: utterance '{sorted(ref)[first_sad - 1]}': reference "
            "label 'sad' is not in the class inventory") in err


def test_score_labels_allow_unknown():
    from emotion2vec.errors import E2VError
    from emotion2vec.metrics import UNKNOWN, format_confusion, score_labels
    m = score_labels(["ang", "hap", "hap"], ["ang", "oth", None], ["ang", "hap"],
                     allow_unknown=True)
    assert m["num_unknown"] == 1 and m["num_missing"] == 1 and m["wa"] == pytest.approx(1 / 3)
    assert m["confusion"] == [[1, 0, 0, 0], [0, 0, 1, 1]]
    assert m["recall"] == {"ang": 1.0, "hap": 0.0} and m["ua"] == pytest.approx(0.5)
    assert UNKNOWN in format_confusion(m["confusion"], ["ang", "hap"])
    with pytest.raises(E2VError, match="hypothesis label 'oth' is not in the class inventory"):
        score_labels(["ang"], ["oth"], ["ang", "hap"])


# -- cross-validation merge -------------------------------------------------------------------
@pytest.fixture(scope="module")
def cv_missing_class(tmp_path_factory):
    """A logreg experiment whose fold1 has no training utterance of 'sad' (sad only in Ses01),
    folds trained; tests copy it before changing anything."""
    from emotion2vec.training.experiment import prepare, run_fold
    root = tmp_path_factory.mktemp("cvmiss")
    data, feats = make_corpus(root, utts_per_spk=8)
    rows = [ln.split() for ln in (data / "utt2emo").read_text().splitlines()]
    (data / "utt2emo").write_text("".join(
        f"{u} {'neu' if e == 'sad' and not u.startswith('Ses01') else e}\n" for u, e in rows))
    exp = root / "exp"
    with contextlib.redirect_stderr(io.StringIO()) as log:
        prepare(data, feats, exp, head="logreg")
        for k in (1, 2, 3):
            run_fold(exp, k)
    assert "WARNING: fold1: no training utterance of class(es) ['sad']" in log.getvalue()
    return root, exp


def _copy(cv, tmp_path):
    exp = tmp_path / "exp"
    shutil.copytree(cv[1], exp)
    settings = json.loads((exp / "settings.json").read_text())
    return exp, settings


def test_merge_reports_class_missing_in_training(cv_missing_class, tmp_path):
    exp, _ = _copy(cv_missing_class, tmp_path)
    code, out, err = py("train_cv_merge", exp)
    assert code == 0, err
    res = json.loads((exp / "results.json").read_text())
    assert [f["classes_missing_in_training"] for f in res["folds"]] == [["sad"], [], []]
    f1 = res["folds"][0]
    n_sad = f1["support"]["sad"]
    assert n_sad == 4 and f1["recall"]["sad"] == 0.0   # the logreg head cannot predict 'sad'
    want = (f"fold1: no training utterance of class(es) sad, so the head never learnt it: "
            f"'sad': {n_sad} test utterance(s), recall 0.00 % (counted in the fold's WA, UA "
            "and macro-F1)")
    assert res["warnings"] == [want]
    assert f"train_cv_merge: WARNING: {want}" in err          # on the console
    assert "1 warning(s): see summary.md" in out
    summary = (exp / "summary.md").read_text()
    assert "## Warnings" in summary and want in summary
    # UA of fold1 averages over the 4 classes of its test set, 'sad' (recall 0) included.
    rec = [r for r in f1["recall"].values() if r is not None]
    assert len(rec) == 4 and f1["ua"] == pytest.approx(sum(rec) / 4, abs=1e-3)


def test_merge_rejects_unknown_label_in_predictions(cv_missing_class, tmp_path):
    exp, s = _copy(cv_missing_class, tmp_path)
    p = exp / "fold2" / f"seed{s['seeds'][0]}" / "predictions"
    lines = p.read_text().splitlines()
    f = lines[3].split()
    f[2] = "oth"
    lines[3] = " ".join(f)
    p.write_text("\n".join(lines) + "\n")
    code, out, err = py("train_cv_merge", exp)
    assert code == 1, out
    assert (f"{p}:4: utterance '{f[0]}': hypothesis label 'oth' is not in the class inventory "
            "(classes.txt: ang hap neu sad)") in err
    assert not (exp / "results.json").exists()


def test_merge_rejects_empty_or_foreign_predictions(cv_missing_class, tmp_path):
    exp, s = _copy(cv_missing_class, tmp_path)
    p = exp / "fold3" / f"seed{s['seeds'][0]}" / "predictions"
    text = p.read_text()
    p.write_text("")
    code, out, err = py("train_cv_merge", exp)
    assert code == 1 and f"{p}: no predictions in the file (it is empty" in err
    # Written for another inventory (header), though every label happens to be known.
    p.write_text(text.replace("p(sad)", "p(fru)", 1))
    code, out, err = py("train_cv_merge", exp)
    assert code == 1 and f"{p}:1: header" in err
    assert "does not match the experiment's classes.txt" in err
