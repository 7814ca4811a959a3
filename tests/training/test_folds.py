import pytest

from emotion2vec.datadir import read_kv
from emotion2vec.errors import E2VError
from emotion2vec.folds import make_folds, split_valid


def _labelled(data):
    return list(read_kv(data / "utt2emo"))


def _spk(data):
    return {u: v for u, v in read_kv(data / "utt2spk").items()}


@pytest.mark.parametrize("cv", ["leave-one-session-out", "leave-one-speaker-out",
                                "speaker-groups:4"])
def test_generated_folds_are_speaker_disjoint_and_cover_every_utterance(corpus, cv):
    data, _ = corpus
    utts = _labelled(data)
    plan = make_folds(data, utts, cv, seed=1)
    spk = _spk(data)
    tested = []
    for f in plan.folds:
        assert {spk[u] for u in f.test}.isdisjoint({spk[u] for u in f.train})
        assert set(f.test).isdisjoint(f.train)
        tested += f.test
    assert sorted(tested) == sorted(utts)          # each utterance tested exactly once
    assert plan.speaker_independent and not plan.corpus_defined


def test_auto_prefers_sessions_and_counts(corpus):
    data, _ = corpus
    plan = make_folds(data, _labelled(data), "auto")
    assert plan.protocol == "leave-one-session-out"
    assert [f.held_out for f in plan.folds] == ["Ses01", "Ses02", "Ses03"]
    assert len(make_folds(data, _labelled(data), "leave-one-speaker-out").folds) == 6


def test_speaker_groups_seeded(corpus):
    data, _ = corpus
    a = make_folds(data, _labelled(data), "speaker-groups:3", seed=7)
    b = make_folds(data, _labelled(data), "speaker-groups:3", seed=7)
    c = make_folds(data, _labelled(data), "speaker-groups:3", seed=8)
    assert [f.test for f in a.folds] == [f.test for f in b.folds]
    # Six speakers of 12 utterances in 3 groups: balanced, whatever the seed.
    assert [len(f.test) for f in a.folds] == [24, 24, 24] == [len(f.test) for f in c.folds]
    with pytest.raises(E2VError, match="speaker-groups:7: need 2 <= K <= number of speakers"):
        make_folds(data, _labelled(data), "speaker-groups:7")


def test_corpus_defined_folds_are_flagged_with_overlap(corpus):
    data, _ = corpus
    utts = _labelled(data)
    # utt2fold that mixes speakers: allowed (the corpus defines it) but reported.
    (data / "utt2fold").write_text("".join(f"{u} {i % 2 + 1}\n" for i, u in enumerate(utts)))
    plan = make_folds(data, utts, "auto")
    assert plan.protocol == "utt2fold" and plan.corpus_defined
    assert not plan.speaker_independent and plan.overlap


def test_lists_protocol(corpus, tmp_path):
    data, _ = corpus
    utts = sorted(_labelled(data))
    d = tmp_path / "cv" / "fold1"
    d.mkdir(parents=True)
    (d / "train").write_text("\n".join(utts[:40]) + "\n")
    (d / "valid").write_text("\n".join(utts[40:50]) + "\n")
    (d / "test").write_text("\n".join(utts[50:]) + "\n")
    plan = make_folds(data, utts, f"lists:{tmp_path / 'cv'}")
    f = plan.folds[0]
    assert len(f.train) == 40 and len(f.valid) == 10 and f.valid_from == "list"
    split_valid(f, "random:0.2", utt2spk=_spk(data))     # the corpus list wins
    assert len(f.valid) == 10
    (d / "test").write_text(utts[0] + "\n")
    with pytest.raises(E2VError, match="in both train and test"):
        make_folds(data, utts, f"lists:{tmp_path / 'cv'}")


def test_missing_protocol_file_entry_is_an_error(corpus):
    data, _ = corpus
    lines = (data / "utt2session").read_text().splitlines()
    (data / "utt2session").write_text("\n".join(lines[1:]) + "\n")
    with pytest.raises(E2VError, match="utt2session: no entry for 1 utterance"):
        make_folds(data, _labelled(data), "leave-one-session-out")


def test_valid_random_is_seeded_and_sized(corpus):
    data, _ = corpus
    spk = _spk(data)
    sizes = []
    for seed in (1, 1, 2):
        f = make_folds(data, _labelled(data), "leave-one-session-out").folds[0]
        n = len(f.train)
        split_valid(f, "random:0.2", utt2spk=spk, seed=seed)
        assert len(f.valid) == n - int(0.8 * n) and len(f.train) + len(f.valid) == n
        assert set(f.valid).isdisjoint(f.train)
        sizes.append(tuple(f.valid))
    assert sizes[0] == sizes[1] and sizes[0] != sizes[2]


def test_valid_speaker_uses_session_partner(corpus):
    data, _ = corpus
    spk = _spk(data)
    sess = {u: v for u, v in read_kv(data / "utt2session").items()}
    f = make_folds(data, _labelled(data), "leave-one-speaker-out").folds[0]   # Ses01F
    split_valid(f, "speaker", utt2spk=spk, utt2session=sess)
    assert {spk[u] for u in f.test} == {"Ses01F"}
    assert {spk[u] for u in f.valid} == {"Ses01M"} and f.valid_from == "speaker Ses01M"
    assert "Ses01M" not in {spk[u] for u in f.train}


def test_bad_valid_spec(corpus):
    data, _ = corpus
    f = make_folds(data, _labelled(data), "auto").folds[0]
    with pytest.raises(E2VError, match="unknown --valid 'bogus'"):
        split_valid(f, "bogus", utt2spk=_spk(data))
    with pytest.raises(E2VError, match="want random:P"):
        split_valid(f, "random:1.5", utt2spk=_spk(data))
