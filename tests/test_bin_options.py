"""emotion2vec.bin._cli: shared option handling of the entry points."""
import pytest

from emotion2vec.bin._cli import batch_seconds
from emotion2vec.errors import E2VError


def test_batch_seconds_auto_depends_on_device():
    assert batch_seconds("auto", "cpu", 120) == 0.0
    assert batch_seconds("AUTO", "cuda", 120) == 120.0
    assert batch_seconds("auto", "cuda:1", 60) == 60.0
    assert batch_seconds("30", "cpu", 120) == 30.0


@pytest.mark.parametrize("bad", ["lots", "-1", "nan"])
def test_batch_seconds_rejects_bad_values(bad):
    with pytest.raises(E2VError, match="--batch-seconds"):
        batch_seconds(bad, "cpu", 120)


def test_true_false_is_strict():
    import argparse

    from emotion2vec.bin._cli import true_false
    assert true_false("true") is True and true_false("false") is False
    with pytest.raises(argparse.ArgumentTypeError, match="want true or false, got 'yes'"):
        true_false("yes")
