
import pytest

from helpers import audio_synth


@pytest.fixture(scope="session")
def forms(tmp_path_factory):
    if not audio_synth.have_tools():
        pytest.skip("espeak-ng and sox are needed for the synthetic corpus")
    return audio_synth.make_forms(tmp_path_factory.mktemp("corpus"))
