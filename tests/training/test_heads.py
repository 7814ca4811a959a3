import numpy as np
import pytest
import torch
import yaml

from emotion2vec.errors import E2VError
from emotion2vec.heads import Split, build_head, load_config, load_head
from emotion2vec.heads.config import default_config
from emotion2vec.heads.frame import E2VModule
from emotion2vec.heads.trainer import TrainConfig, make_optimizer, make_scheduler

CLASSES = ["a", "b", "c"]


def _toy(n=90, dim=8, seed=0, sep=2.0, frames=(3, 15)):
    """Frame features whose class sits in one dimension: a separable toy task."""
    rng = np.random.default_rng(seed)
    feats, labels = {}, []
    for i in range(n):
        y = i % 3
        m = rng.normal(size=(int(rng.integers(*frames)), dim)).astype(np.float32)
        m[:, y] += sep
        feats[f"u{i:03d}"] = m
        labels.append(y)
    utts = list(feats)
    labels = np.array(labels)
    return feats, utts, labels


def _splits(feats, utts, labels):
    return (Split(utts[:60], labels[:60], feats.__getitem__),
            Split(utts[60:75], labels[60:75], feats.__getitem__),
            utts[75:], labels[75:])


def test_e2v_module_equals_padded_masked_mean():
    """Packed frames + segment mean == emotion2vec's padded batch with a padding mask."""
    torch.manual_seed(0)
    mod = E2VModule(8, 16, 3)
    lens = [3, 7, 5]
    xs = [torch.randn(t, 8) for t in lens]
    packed = mod(torch.cat(xs), torch.repeat_interleave(torch.arange(3), torch.tensor(lens)),
                 torch.tensor(lens))
    pad = torch.zeros(3, 7, 8)
    mask = torch.ones(3, 7, dtype=torch.bool)           # True = padding (emotion2vec's mask)
    for i, x in enumerate(xs):
        pad[i, :len(x)] = x
        mask[i, :len(x)] = False
    h = torch.relu(mod.pre_net(pad)) * (1 - mask.unsqueeze(-1).float())
    ref = mod.post_net(h.sum(1) / (1 - mask.float()).sum(1, keepdim=True))
    assert torch.allclose(packed, ref, atol=1e-6)


def test_e2v_config_is_the_official_schedule():
    cfg = load_config("e2v", None)
    tc = TrainConfig.from_dict(cfg)
    assert (tc.epochs, tc.batch_size, tc.select_metric, tc.patience) == (100, 128, "wa", None)
    assert cfg["hidden"] == 256 and cfg["normalize"] == "none" and not tc.class_weight
    p = torch.nn.Parameter(torch.zeros(1))
    opt = make_optimizer([p], tc.optimizer)
    assert isinstance(opt, torch.optim.RMSprop)
    sch = make_scheduler(opt, tc.scheduler, tc.epochs)
    lrs, moms = [], []
    for _ in range(21):
        lrs.append(opt.param_groups[0]["lr"])
        moms.append(opt.param_groups[0]["momentum"])
        opt.step()
        sch.step()
    # Triangular cycle over epochs: 5e-4 up to 1e-3 at epoch 10, back at 20; momentum inverse.
    assert lrs[0] == pytest.approx(5e-4) and lrs[10] == pytest.approx(1e-3)
    assert lrs[20] == pytest.approx(5e-4) and lrs[5] == pytest.approx(7.5e-4)
    assert moms[0] == pytest.approx(0.9) and moms[10] == pytest.approx(0.8)


def test_e2v_learns_separable_toy_task_and_reloads(tmp_path):
    feats, utts, labels = _toy()
    tr, va, test, ytest = _splits(feats, utts, labels)
    cfg = load_config("e2v", None)
    cfg.update(epochs=30, batch_size=16)
    head = build_head("e2v", CLASSES, 8, cfg)
    info = head.fit(tr, va, seed=42, log=lambda s: None)
    p = head.predict_proba([feats[u] for u in test])
    assert p.shape == (15, 3) and np.allclose(p.sum(1), 1, atol=1e-5)
    assert (p.argmax(1) == ytest).mean() >= 0.9
    assert 1 <= info["best_epoch"] <= 30
    head.save(tmp_path / "h")
    again = load_head(tmp_path / "h")
    assert again.classes == CLASSES
    assert np.array_equal(again.predict_proba([feats[u] for u in test]), p)


def test_seed_reproduces_exactly_and_differs_across_seeds():
    feats, utts, labels = _toy(seed=1)
    tr, va, test, _ = _splits(feats, utts, labels)

    def run(seed, name="e2v"):
        head = build_head(name, CLASSES, 8, {"epochs": 4, "batch_size": 8, "hidden": 16,
                                            "normalize": "global"})
        head.fit(tr, va, seed=seed, log=lambda s: None)
        return head.predict_proba([feats[u] for u in test])

    assert np.array_equal(run(3), run(3))
    assert not np.array_equal(run(3), run(4))
    assert np.array_equal(run(3, "attn"), run(3, "attn"))


@pytest.mark.parametrize("name,cfg", [
    ("attn", {"epochs": 15, "batch_size": 16}),
    ("linear", {"epochs": 40, "batch_size": 16, "optimizer": {"name": "adam", "lr": 0.01}}),
    ("mlp", {"epochs": 20, "batch_size": 16, "hidden": [32]}),
    ("svm", {"C": [0.01, 1.0]}),
    ("logreg", {"C": [0.01, 1.0], "class_weight": True}),
])
def test_other_heads_learn_and_round_trip(tmp_path, name, cfg):
    feats, utts, labels = _toy(seed=2)
    tr, va, test, ytest = _splits(feats, utts, labels)
    head = build_head(name, CLASSES, 8, cfg)
    head.fit(tr, va, seed=0, log=lambda s: None)
    p = head.predict_proba([feats[u] for u in test])
    assert (p.argmax(1) == ytest).mean() >= 0.8
    head.save(tmp_path / name)
    assert np.allclose(load_head(tmp_path / name).predict_proba([feats[u] for u in test]), p,
                       atol=1e-6)


@pytest.mark.parametrize("arch", ["alexnet", "resnet18"])
def test_cnn_segments_and_runs(tmp_path, arch):
    # 'logspec'-like features at 10 frames/s: 3 s segments = 30 frames.
    feats, utts, labels = _toy(n=30, dim=20, frames=(12, 70), sep=3.0)
    tr = Split(utts[:24], labels[:24], feats.__getitem__)
    cfg = {"arch": arch, "width": 0.1, "epochs": 2, "batch_size": 8, "frame_rate": 10}
    head = build_head("cnn", CLASSES, 20, cfg)
    data = head.batches(feats.__getitem__, utts, labels)
    n_seg = np.bincount(data.group)
    lengths = np.array([feats[u].shape[0] for u in utts])
    assert (n_seg == np.maximum(1, np.ceil(lengths / 30))).all()
    x, = data.batch(np.arange(4))
    assert tuple(x.shape) == (4, 1, 20, 30)
    head.fit(tr, None, seed=0, log=lambda s: None)
    p = head.predict_proba([feats[u] for u in utts[24:]])
    assert p.shape == (6, 3) and np.allclose(p.sum(1), 1, atol=1e-5)
    head.save(tmp_path / "cnn")
    assert np.allclose(load_head(tmp_path / "cnn").predict_proba([feats[u] for u in utts[24:]]),
                       p, atol=1e-6)


def test_bad_inputs_and_configs(tmp_path):
    head = build_head("e2v", CLASSES, 8, {"epochs": 1})
    with pytest.raises(E2VError, match="not trained"):
        head.predict_proba([np.zeros((2, 8), np.float32)])
    with pytest.raises(E2VError, match="unknown head 'boo'"):
        build_head("boo", CLASSES, 8, {})
    with pytest.raises(E2VError, match="select_metric 'acc'"):
        TrainConfig.from_dict({"select_metric": "acc"})
    with pytest.raises(E2VError, match="no head.json"):
        load_head(tmp_path)
    feats, utts, labels = _toy(n=12)
    h = build_head("linear", CLASSES, 8, {"epochs": 1})
    h.fit(Split(utts, labels, feats.__getitem__), None, seed=0, log=lambda s: None)
    with pytest.raises(E2VError, match=r"input 0 has shape \(2, 5\), want \[T, 8\]"):
        h.predict_proba([np.zeros((2, 5), np.float32)])
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"head": "mlp"}))
    with pytest.raises(E2VError, match="configuration is for head 'mlp', not 'e2v'"):
        load_config("e2v", str(bad))


def test_default_configs_exist_for_every_head():
    from emotion2vec.heads import head_names
    for name in head_names():
        assert default_config(name).is_file(), name
        assert isinstance(load_config(name, None), dict)
