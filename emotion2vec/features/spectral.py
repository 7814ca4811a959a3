"""Spectral features: Kaldi-compatible fbank, and the log-spectrogram inputs of the
spectrogram-CNN baselines (logspec, logmel)."""

from __future__ import annotations

from typing import List

import numpy as np

from emotion2vec.errors import E2VError
from emotion2vec.features.base import Extractor

# Floor under magnitudes/energies before the log (Kaldi's default epsilon, float32 eps).
_LOG_FLOOR = float(np.finfo(np.float32).eps)


class Fbank(Extractor):
    """Kaldi `compute-fbank-feats` (kaldi-native-fbank) with dither 0 for determinism.

    The waveform is scaled to the 16-bit integer range first, as Kaldi reads wav files, so the
    values equal Kaldi's for the same audio.
    """

    name = "fbank"

    def __init__(self, num_mel_bins: int = 80, sample_rate: int = 16000, **_):
        import kaldi_native_fbank as knf

        opts = knf.FbankOptions()
        opts.frame_opts.dither = 0.0
        opts.frame_opts.samp_freq = float(sample_rate)
        opts.mel_opts.num_bins = int(num_mel_bins)
        self._opts = opts
        self._knf = knf
        self.sample_rate = sample_rate
        self.dim = int(num_mel_bins)
        self.frame_rate = 100.0

    def extract(self, wavs: List[np.ndarray]) -> List[np.ndarray]:
        out = []
        for wav in wavs:
            fb = self._knf.OnlineFbank(self._opts)
            fb.accept_waveform(float(self.sample_rate), wav * 32768.0)
            fb.input_finished()
            n = fb.num_frames_ready
            out.append(np.stack([fb.get_frame(i) for i in range(n)]).astype(np.float32)
                       if n else np.zeros((0, self.dim), np.float32))
        return out


def _frames(wav: np.ndarray, length: int, hop: int) -> np.ndarray:
    """Frames of `length` samples every `hop` (only whole frames; a shorter signal is
    zero-padded to one frame)."""
    if len(wav) < length:
        wav = np.pad(wav, (0, length - len(wav)))
    n = 1 + (len(wav) - length) // hop
    return np.lib.stride_tricks.sliding_window_view(wav, length)[::hop][:n]


def mel_filterbank(num_bins: int, nfft: int, sample_rate: int,
                   low: float = 0.0, high: float = 0.0) -> np.ndarray:
    """Triangular filters equally spaced on the HTK mel scale: [num_bins, nfft // 2 + 1]."""
    high = high if high > 0 else sample_rate / 2

    def mel(f):
        return 1127.0 * np.log1p(np.asarray(f) / 700.0)

    centres = np.linspace(mel(low), mel(high), num_bins + 2)
    freqs_mel = mel(np.arange(nfft // 2 + 1) * sample_rate / nfft)
    left, centre, right = centres[:-2, None], centres[1:-1, None], centres[2:, None]
    up = (freqs_mel - left) / (centre - left)
    down = (right - freqs_mel) / (right - centre)
    return np.maximum(0.0, np.minimum(up, down)).astype(np.float32)


class LogSpec(Extractor):
    """Log-magnitude spectrogram of the spectrogram-CNN baselines: pre-emphasis 0.97, 40 ms
    Hamming window, 10 ms hop, 800-point FFT, the lowest 200 bins (0-4 kHz at 16 kHz)."""

    name = "logspec"

    def __init__(self, sample_rate: int = 16000, preemphasis: float = 0.97,
                 window_ms: float = 40.0, hop_ms: float = 10.0, nfft: int = 800,
                 num_bins: int = 200, **_):
        self.sample_rate = sample_rate
        self.preemphasis = preemphasis
        self.win = int(round(window_ms * sample_rate / 1000))
        self.hop = int(round(hop_ms * sample_rate / 1000))
        self.nfft = int(nfft)
        if self.nfft < self.win:
            raise E2VError(f"FFT size {self.nfft} is shorter than the window ({self.win} samples)")
        self.window = np.hamming(self.win).astype(np.float32)
        self.frame_rate = sample_rate / self.hop
        self.num_bins = int(num_bins)
        if not 0 < self.num_bins <= self.nfft // 2 + 1:
            raise E2VError(f"num_bins {self.num_bins} not in 1..{self.nfft // 2 + 1}")
        self.dim = self.num_bins

    def _spectrum(self, wav: np.ndarray) -> np.ndarray:
        x = np.append(wav[:1], wav[1:] - self.preemphasis * wav[:-1]).astype(np.float32)
        frames = _frames(x, self.win, self.hop) * self.window
        return np.abs(np.fft.rfft(frames, n=self.nfft, axis=1))

    def extract(self, wavs: List[np.ndarray]) -> List[np.ndarray]:
        return [np.log(np.maximum(self._spectrum(w)[:, :self.num_bins], _LOG_FLOOR))
                .astype(np.float32) for w in wavs]


class LogMel(LogSpec):
    """Log mel energies on the logspec framing (same window, hop and FFT); 40 or 80 bands."""

    name = "logmel"

    def __init__(self, num_mel_bins: int = 40, sample_rate: int = 16000, **kw):
        super().__init__(sample_rate=sample_rate, **kw)
        self.dim = int(num_mel_bins)
        self.fbank = mel_filterbank(self.dim, self.nfft, sample_rate)

    def extract(self, wavs: List[np.ndarray]) -> List[np.ndarray]:
        return [np.log(np.maximum((self._spectrum(w) ** 2) @ self.fbank.T, _LOG_FLOOR))
                .astype(np.float32) for w in wavs]
