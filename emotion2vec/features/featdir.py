"""Feature directories: options record, one extraction job, merge.

Layout of `<feat-dir>` (what steps/extract_feats.sh makes):

    options.json              feature options (a rerun with other options is refused)
    feats.scp utt2num_frames  merged, sorted, absolute ark paths
    feat_info.json            feat_type model layer granularity dim frame_rate ... command
    bad_utts                  `<utt> <reason>` (only with --skip-bad true)
    data/feats.N.ark .scp     job N's archive; utt2num_frames.N, bad_utts.N, .done.N
    layer<k>/                 with --layer all: a complete feat dir per layer (the top level
                              then points at the last layer's archives)
    log/extract.N.log

A job holds `data/.lock.N` while it runs (a job of an earlier run still writing there makes it
wait), writes its archive under a name of its own run (`feats.N.ark.<run>.tmp`: a leftover
process of another run can never rename this run's files), renames it, writes its scp
(pointing at the final name), reads everything back (every utterance, every matrix), and last
writes its `.done.N` marker: a signature of the options and of its inputs (the list files'
bytes, the size and time of every audio file, archive and model they name: see
emotion2vec.fingerprint), the sizes of its outputs, and its statistics.  A rerun skips a job
only when its marker matches and its outputs still have those sizes; it never reads an archive
without a marker.  The step itself holds `<feat-dir>/.lock` (steps/extract_feats.sh).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import sys
import time
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from emotion2vec.audio import SAMPLE_RATE, AudioReader
from emotion2vec.datadir import c_sort_key, read_kv, write_kv
from emotion2vec.errors import E2VError
from emotion2vec.fileio import PathLike, atomic_write_text
from emotion2vec.features import make_extractor, parse_layer
from emotion2vec.features import opensmile as opensmile_feats
from emotion2vec.features.base import Extractor
from emotion2vec.features.batching import bucketed
from emotion2vec.fingerprint import update_with_files, update_with_wav_scp
from emotion2vec.kaldi_ark import ArkWriter, run_token
from emotion2vec.locks import JobLock, busy

# Options that change the feature values: a feat dir holds one setting of them (opensmile_set
# and opensmile_level are recorded for --feat-type opensmile only, so that the records of other
# feature types, and their done jobs, stay as they were).
FEATURE_OPTIONS = ("feat_type", "model", "layer", "granularity", "num_mel_bins",
                   "trust_remote_code", "opensmile_set", "opensmile_level")
# Options that only change how the work runs (free to differ between reruns).
RUN_OPTIONS = ("device", "batch_seconds", "skip_bad")
GRANULARITIES = ("frame", "utterance")
_SIGNATURE_FILES = ("segments", "utt2spk", "utt2dur", "reco2dur")
# A job's file: feats.N.ark, feats.N.scp (maybe .<run>.tmp), utt2num_frames.N, bad_utts.N, .done.N
_JOB_FILE = re.compile(r"\.(\d+)(\.(ark|scp)(\.[\w-]+)?(\.tmp)?)?$")


# ---------------------------------------------------------------- options and signatures

def _opensmile_options(feat_type: str, granularity: Optional[str], opensmile_set: Optional[str],
                       opensmile_level: Optional[str]) -> Dict:
    """{opensmile_set, opensmile_level} with defaults resolved ({} for other feature types),
    and the granularity: functionals are one vector per utterance, so 'utterance' only."""
    if feat_type != "opensmile":
        for name, value in (("set", opensmile_set), ("level", opensmile_level)):
            if value:
                raise E2VError(f"--opensmile-{name} does not apply to --feat-type {feat_type}")
        return {"granularity": granularity or "frame"}
    opensmile_set = opensmile_set or opensmile_feats.DEFAULT_SET
    opensmile_level = opensmile_level or opensmile_feats.DEFAULT_LEVEL
    opensmile_feats.check_set_level(opensmile_set, opensmile_level)
    if opensmile_level == "functionals":
        if granularity == "frame":
            raise E2VError("--granularity frame: opensmile functionals are one vector per "
                           "utterance (use --opensmile-level lld for frames)")
        granularity = "utterance"
    return {"granularity": granularity or "frame", "opensmile_set": opensmile_set,
            "opensmile_level": opensmile_level}


def feature_options(feat_type: str, model: Optional[str] = None, layer: str = "last",
                    granularity: Optional[str] = None, num_mel_bins: Optional[int] = None,
                    trust_remote_code: bool = False, opensmile_set: Optional[str] = None,
                    opensmile_level: Optional[str] = None) -> Dict:
    """The canonical record of the options that define a feat dir's values.  `granularity`
    None is 'frame', except for opensmile functionals ('utterance', their only one)."""
    if granularity is not None and granularity not in GRANULARITIES:
        raise E2VError(f"--granularity: want frame or utterance, got {granularity!r}")
    parse_layer(layer)  # validates the spelling
    if feat_type in ("fbank", "logspec", "logmel", "opensmile"):
        if model:
            raise E2VError(f"--model does not apply to --feat-type {feat_type}")
        if layer != "last":
            raise E2VError(f"--layer does not apply to --feat-type {feat_type}")
    if feat_type in ("logspec", "opensmile") and num_mel_bins:
        raise E2VError(f"--num-mel-bins does not apply to --feat-type {feat_type}")
    if feat_type in ("fbank", "logmel") and not num_mel_bins:
        num_mel_bins = 80 if feat_type == "fbank" else 40
    if feat_type in ("emotion2vec", "hf") and num_mel_bins:
        raise E2VError(f"--num-mel-bins does not apply to --feat-type {feat_type}")
    if feat_type == "emotion2vec" and not model:
        model = "emotion2vec_base"
    if feat_type == "hf" and not model:
        raise E2VError("--feat-type hf needs --model <local dir or hub name>")
    if model and os.path.exists(model):
        # A local model is recorded by absolute path: inference re-extracts from any cwd.
        model = os.path.abspath(model)
    smile = _opensmile_options(feat_type, granularity, opensmile_set, opensmile_level)
    return {"feat_type": feat_type, "model": model or None, "layer": str(layer),
            "num_mel_bins": num_mel_bins or None, "trust_remote_code": bool(trust_remote_code),
            **smile}


def feature_tag(options: Dict) -> str:
    """The name part recipes give feat dirs and experiments: type, model, non-default layer;
    opensmile: the set and a non-default level (`opensmile_ComParE_2016`,
    `opensmile_eGeMAPSv02_lld`)."""
    tag = options["feat_type"]
    if options["model"]:
        name = os.path.basename(options["model"].rstrip("/"))
        tag += "_" + (name[:-3] if name.endswith(".pt") else name)
    if options["layer"] != "last":
        tag += f"_l{options['layer']}"
    if options.get("opensmile_set"):
        tag += "_" + options["opensmile_set"]
        if options["opensmile_level"] != opensmile_feats.DEFAULT_LEVEL:
            tag += "_" + options["opensmile_level"]
    return tag


def job_signature(options: Dict, split_dir: PathLike, job: int, nj: int) -> str:
    """What job `job`'s features depend on: the options, the split's list files and the size
    and time of every file they read (audio, archives, files named in pipes, the model)."""
    h = hashlib.sha256(json.dumps(options, sort_keys=True).encode())
    h.update(f"job {job} of {nj}\n".encode())
    split_dir = Path(split_dir)
    if (split_dir / "wav.scp").is_file():
        update_with_wav_scp(h, split_dir / "wav.scp")
    for name in _SIGNATURE_FILES:
        p = split_dir / name
        if p.is_file():
            h.update(name.encode() + b"\0" + p.read_bytes() + b"\0")
    if options.get("model") and os.path.exists(options["model"]):
        update_with_files(h, [options["model"]])
    if options["feat_type"] == "opensmile":  # another release may compute other values
        from importlib.metadata import version

        h.update(f"opensmile {version('opensmile')}".encode())
    return h.hexdigest()


def _read_done(feat_dir: Path, job: int) -> Optional[Dict]:
    p = feat_dir / "data" / f".done.{job}"
    try:
        return json.loads(p.read_text())
    except (FileNotFoundError, ValueError):
        return None


def _output_sizes(paths: Sequence[Path], feat_dir: Path) -> Dict[str, int]:
    return {str(p.relative_to(feat_dir)): p.stat().st_size for p in paths}


def _changed_outputs(feat_dir: Path, done: Dict) -> List[str]:
    """The outputs a marker vouches for that are missing or no longer of their size."""
    if "outputs" not in done:
        return ["(a marker of an older version lists none)"]
    return [rel for rel, size in done["outputs"].items()
            if not (feat_dir / rel).is_file() or (feat_dir / rel).stat().st_size != size]


def _done_valid(feat_dir: Path, done: Optional[Dict], sig: str) -> bool:
    """A marker counts only for the same signature and while its outputs are as written."""
    return bool(done) and done.get("signature") == sig and not _changed_outputs(feat_dir, done)


def _diff(old: Dict, new: Dict) -> str:
    keys = sorted(set(old) | set(new))
    return "; ".join(f"{k}: {old.get(k)!r} there, {new.get(k)!r} now"
                     for k in keys if old.get(k) != new.get(k))


def init_feat_dir(feat_dir: PathLike, options: Dict, sdata: Optional[PathLike] = None,
                  nj: Optional[int] = None) -> List[int]:
    """Create `feat_dir` (or check that it holds features made with the same options) and
    return the jobs 1..nj that still have to run (those without a matching `.done` marker)."""
    feat_dir = Path(feat_dir)
    if any(c.isspace() for c in str(feat_dir.resolve())):
        raise E2VError(f"{feat_dir}: feature directory paths may not contain whitespace "
                       "(Kaldi scp files cannot hold them)")
    record = feat_dir / "options.json"
    if record.is_file():
        old = json.loads(record.read_text())
        if old != options:
            raise E2VError(f"{feat_dir} holds features made with different options "
                           f"({_diff(old, options)}); use a new feature directory or remove it")
    for sub in ("data", "log"):
        (feat_dir / sub).mkdir(parents=True, exist_ok=True)
    if not record.is_file():
        atomic_write_text(record, json.dumps(options, indent=1, sort_keys=True) + "\n")
    if sdata is None or nj is None:
        return []
    # Outputs of jobs beyond nj (an earlier run with more jobs) would linger: remove them.
    for d in [feat_dir] + sorted(feat_dir.glob("layer*")):
        for p in (d / "data").glob("*.*"):
            m = _JOB_FILE.search(p.name)
            if m and int(m[1]) > nj and not p.name.startswith(".lock."):
                holder = busy(feat_dir / "data" / f".lock.{m[1]}")
                if holder:
                    raise E2VError(f"{feat_dir}: job {m[1]} of an earlier run is still running "
                                   f"({holder}); wait for it or stop it")
                p.unlink()
    todo = []
    for job in range(1, nj + 1):
        sig = job_signature(options, Path(sdata) / str(job), job, nj)
        if not _done_valid(feat_dir, _read_done(feat_dir, job), sig):
            todo.append(job)
    return todo


# ---------------------------------------------------------------- one job

class _LineStream:
    """A file for tqdm in logs: each refresh of the bar becomes a line of its own."""

    def __init__(self, f):
        self.f = f

    def write(self, s: str) -> None:
        for part in s.replace("\r", "\n").split("\n"):
            if part.strip():
                self.f.write(part.rstrip() + "\n")

    def flush(self) -> None:
        self.f.flush()


def _progress(total: int, desc: str):
    from tqdm import tqdm

    if sys.stderr.isatty():
        return tqdm(total=total, desc=desc, unit="utt", file=sys.stderr, dynamic_ncols=True)
    return tqdm(total=total, desc=desc, unit="utt", file=_LineStream(sys.stderr), ascii=True,
                mininterval=30.0, ncols=80)


def _layer_dirs(feat_dir: Path, options: Dict, num_layers: Optional[int]) -> List[Path]:
    if options["layer"] == "all":
        return [feat_dir / f"layer{k}" for k in range(1, (num_layers or 0) + 1)]
    return [feat_dir]


def _remove_job_files(d: Path, job: int) -> None:
    """Job `job`'s outputs in one (layer) dir, and temporary files any earlier run left."""
    data = d / "data"
    names = [f"feats.{job}.ark", f"feats.{job}.scp", f"utt2num_frames.{job}", f"bad_utts.{job}"]
    paths = [data / n for n in names]
    paths += list(data.glob(f"feats.{job}.ark*.tmp")) + list(data.glob(f"feats.{job}.scp*.tmp"))
    for p in paths:
        with contextlib.suppress(FileNotFoundError):
            p.unlink()


def _verify_job(d: Path, job: int, num_frames: Dict[str, int]) -> List[Path]:
    """Read back what job `job` wrote in one (layer) dir: every utterance, with its frames.
    Returns the files the job's marker vouches for."""
    import kaldi_native_io as kio

    data = d / "data"
    scp, frames = data / f"feats.{job}.scp", data / f"utt2num_frames.{job}"
    listed = read_kv(scp, check_sorted=False) if scp.stat().st_size else {}
    if list(listed) != list(num_frames):
        raise E2VError(f"job {job}: {scp} lists {len(listed)} utterance(s), the job wrote "
                       f"{len(num_frames)}")
    if listed:
        reader = kio.RandomAccessFloatMatrixReader(f"scp:{scp}")
        try:
            for utt, n in num_frames.items():
                if reader[utt].shape[0] != n:
                    raise E2VError(f"job {job}: {utt} in {scp} has {reader[utt].shape[0]} "
                                   f"frames, the job wrote {n}")
        finally:
            reader.close()
    return [scp, frames] + ([data / f"feats.{job}.ark"] if listed else [])


def _make_extractor(options: Dict, device: str) -> Extractor:
    return make_extractor(options["feat_type"], model=options["model"],
                          layer=parse_layer(options["layer"]), device=device,
                          num_mel_bins=options["num_mel_bins"],
                          trust_remote_code=options["trust_remote_code"], sample_rate=SAMPLE_RATE,
                          opensmile_set=options.get("opensmile_set"),
                          opensmile_level=options.get("opensmile_level"))


def run_job(split_dir: PathLike, feat_dir: PathLike, job: int, nj: int, options: Dict,
            device: str = "cpu", batch_seconds: float = 120.0, skip_bad: bool = False,
            extractor: Optional[Extractor] = None) -> Dict:
    """Extract features for the utterances of one split of a data dir (job `job` of `nj`).

    Returns the job's statistics (also stored in its `.done` marker).  A job whose marker
    matches is skipped.  While it runs the job holds `data/.lock.<job>`.
    """
    split_dir, feat_dir = Path(split_dir), Path(feat_dir)
    record = feat_dir / "options.json"
    if not record.is_file():
        raise E2VError(f"{feat_dir}: no options.json (run `python -m emotion2vec.bin.feat_dir "
                       "init` or steps/extract_feats.sh)")
    recorded = json.loads(record.read_text())
    if recorded != options:
        raise E2VError(f"job {job}: options differ from {record} ({_diff(recorded, options)})")
    with JobLock(feat_dir / "data" / f".lock.{job}", f"job {job}"):
        sig = job_signature(options, split_dir, job, nj)
        done = _read_done(feat_dir, job)
        if _done_valid(feat_dir, done, sig):
            print(f"job {job}: already done ({done['num_utts']} utterances); skipping",
                  file=sys.stderr)
            return done
        with contextlib.suppress(FileNotFoundError):
            (feat_dir / "data" / f".done.{job}").unlink()
        return _extract_job(split_dir, feat_dir, job, nj, options, sig, device, batch_seconds,
                            skip_bad, extractor)


def _extract_job(split_dir: Path, feat_dir: Path, job: int, nj: int, options: Dict, sig: str,
                 device: str, batch_seconds: float, skip_bad: bool,
                 extractor: Optional[Extractor]) -> Dict:
    t0 = time.time()
    clock = {"load": 0.0, "read": 0.0, "extract": 0.0, "write": 0.0}
    reader = AudioReader(split_dir)
    extractor = extractor or _make_extractor(options, device)
    clock["load"] = time.time() - t0
    layer_dirs = _layer_dirs(feat_dir, options, extractor.num_layers)
    for d in layer_dirs + ([feat_dir] if options["layer"] == "all" else []):
        _remove_job_files(d, job)
    run = run_token()
    outs = [ArkWriter(d / "data" / f"feats.{job}.ark", run) for d in layer_dirs]
    bad: List[Tuple[str, str]] = []
    num_frames: Dict[str, int] = {}
    bar = _progress(len(reader), f"job {job}")
    try:
        audio_samples = _extract_loop(reader, extractor, options, outs, bar, job, skip_bad,
                                      batch_seconds, clock, bad, num_frames)
        bar.close()
        for out in outs:
            out.finish()
    except BaseException:
        bar.close()  # ends the progress line, so the error starts a line of its own
        for out in outs:
            out.discard()
        raise
    outputs = _write_job_lists(feat_dir, layer_dirs, job, options, num_frames, bad)
    stats = {"signature": sig, "job": job, "nj": nj, "num_utts": len(num_frames),
             "num_bad": len(bad), "audio_seconds": audio_samples / SAMPLE_RATE,
             "elapsed_seconds": time.time() - t0, "finished": time.time(),
             "seconds": {k: round(v, 3) for k, v in clock.items()},
             "extractor": extractor.info(), "outputs": _output_sizes(outputs, feat_dir)}
    atomic_write_text(feat_dir / "data" / f".done.{job}",
                      json.dumps(stats, indent=1, sort_keys=True) + "\n")
    rtf = stats["elapsed_seconds"] / max(stats["audio_seconds"], 1e-9)
    print(f"job {job}: {len(num_frames)} utterances ({len(bad)} bad), "
          f"{stats['audio_seconds'] / 3600:.3f} h of audio in {stats['elapsed_seconds']:.1f} s "
          f"(real-time factor {rtf:.4f}; seconds: "
          + ", ".join(f"{k} {v:.1f}" for k, v in clock.items()) + ")", file=sys.stderr)
    return stats


def _extract_loop(reader: AudioReader, extractor: Extractor, options: Dict, outs: List[ArkWriter],
                  bar, job: int, skip_bad: bool, batch_seconds: float, clock: Dict[str, float],
                  bad: List[Tuple[str, str]], num_frames: Dict[str, int]) -> int:
    """Read, extract and write every utterance; returns the number of audio samples."""
    all_layers = options["layer"] == "all"
    utterance_level = options["granularity"] == "utterance"
    audio_samples = 0

    def fail(utt: str, reason: str) -> None:
        if not skip_bad:
            raise E2VError(f"utterance {utt}: {reason}" if not reason.startswith("utterance ")
                           else reason)
        bar.write(f"job {job}: skipping bad utterance {utt}: {reason}", file=bar.fp)
        bad.append((utt, reason.replace("\n", " ")))
        bar.update(1)

    def audio() -> Iterator[Tuple[str, np.ndarray]]:
        for utt in reader.keys:
            t = time.time()
            try:
                wav = reader.read(utt)
            except E2VError as e:
                fail(utt, str(e))
                continue
            finally:
                clock["read"] += time.time() - t
            yield utt, wav

    def extract(wavs: List[np.ndarray]) -> List[np.ndarray]:
        t = time.time()
        try:
            return extractor.extract(wavs)
        finally:
            clock["extract"] += time.time() - t

    if extractor.batched:
        budget = max(1, int(batch_seconds * SAMPLE_RATE))
        results = bucketed(audio(), extract, budget, window_samples=8 * budget)
    else:
        results = ((utt, wav, extract([wav])[0]) for utt, wav in audio())
    for utt, wav, feats in results:
        audio_samples += len(wav)
        if feats.shape[-2] == 0:
            fail(utt, f"too short for {options['feat_type']} features "
                      f"({len(wav)} samples give no frame)")
            continue
        if not np.isfinite(feats).all():
            fail(utt, "features contain NaN or Inf")
            continue
        if utterance_level:
            feats = feats.mean(axis=-2, keepdims=True)
        mats = list(feats) if all_layers else [feats]
        if len(mats) != len(outs):
            raise E2VError(f"utterance {utt}: extractor gave {len(mats)} layers, "
                           f"expected {len(outs)}")
        t = time.time()
        for out, mat in zip(outs, mats):
            out.write(utt, mat)
        clock["write"] += time.time() - t
        num_frames[utt] = int(mats[0].shape[0])
        bar.update(1)
    return audio_samples


def _write_job_lists(feat_dir: Path, layer_dirs: List[Path], job: int, options: Dict,
                     num_frames: Dict[str, int], bad: List[Tuple[str, str]]) -> List[Path]:
    """utt2num_frames.N, bad_utts.N (and the top level of --layer all); read everything back.
    Returns the files the job's marker vouches for."""
    outputs: List[Path] = []
    for d in layer_dirs:
        _write_kv_or_empty(d / "data" / f"utt2num_frames.{job}", num_frames)
        outputs += _verify_job(d, job, num_frames)
    if options["layer"] == "all":  # the top level points at the last layer's archive
        last = layer_dirs[-1] / "data"
        for name in (f"feats.{job}.scp", f"utt2num_frames.{job}"):
            atomic_write_text(feat_dir / "data" / name, (last / name).read_text())
            outputs.append(feat_dir / "data" / name)
    bad_file = feat_dir / "data" / f"bad_utts.{job}"
    atomic_write_text(bad_file, "".join(f"{u} {r}\n"
                                        for u, r in sorted(bad, key=lambda b: c_sort_key(b[0]))))
    return outputs + [bad_file]


# ---------------------------------------------------------------- merge

def _write_kv_or_empty(path: Path, mapping: Dict) -> None:
    if mapping:
        write_kv(path, mapping)
    else:
        atomic_write_text(path, "")


def _utterances(data_dir: Path) -> List[str]:
    for name in ("utt2spk", "segments", "wav.scp"):
        if (data_dir / name).is_file():
            return list(read_kv(data_dir / name, check_sorted=False))
    raise E2VError(f"{data_dir}: no utt2spk, segments or wav.scp")


def _concat(paths: Sequence[Path], out: Path) -> Dict[str, str]:
    merged: Dict[str, str] = {}
    for p in paths:
        if not p.is_file():
            raise E2VError(f"{p}: missing (did the job finish?)")
        if p.stat().st_size:
            for k, v in read_kv(p, check_sorted=False).items():
                if k in merged:
                    raise E2VError(f"{p}: utterance {k} also produced by another job")
                merged[k] = v
    _write_kv_or_empty(out, merged)
    return merged


def merge_feat_dir(data_dir: PathLike, feat_dir: PathLike, nj: int, skip_bad: bool = False,
                   command: str = "", start: Optional[float] = None,
                   run_options: Optional[Dict] = None, copy_to_data: bool = True) -> Dict:
    """Merge the jobs' outputs into feats.scp / utt2num_frames / bad_utts / feat_info.json,
    check that every utterance of the data dir has features (or is a listed bad utterance
    with `skip_bad`), copy feats.scp and utt2num_frames into the data dir; return totals."""
    data_dir, feat_dir = Path(data_dir), Path(feat_dir)
    options = json.loads((feat_dir / "options.json").read_text())
    stats = []
    for job in range(1, nj + 1):
        holder = busy(feat_dir / "data" / f".lock.{job}")
        if holder:
            raise E2VError(f"job {job} of {nj} is still running ({holder})")
        done = _read_done(feat_dir, job)
        if done is None:
            raise E2VError(f"job {job} of {nj} did not finish (no {feat_dir}/data/.done.{job}); "
                           f"see {feat_dir}/log/extract.{job}.log")
        changed = _changed_outputs(feat_dir, done)
        if changed:
            raise E2VError(f"job {job} of {nj}: outputs changed after the job finished "
                           f"({', '.join(changed[:3])}); rerun to redo it")
        stats.append(done)
    info = stats[0]["extractor"]
    bad = _concat([feat_dir / "data" / f"bad_utts.{j}" for j in range(1, nj + 1)],
                  feat_dir / "bad_utts")
    if not bad:
        (feat_dir / "bad_utts").unlink()
    layer_dirs = _layer_dirs(feat_dir, options, info.get("num_layers"))
    dirs = layer_dirs + ([feat_dir] if options["layer"] == "all" else [])
    feats = {}
    for d in dirs:
        feats = _concat([d / "data" / f"feats.{j}.scp" for j in range(1, nj + 1)], d / "feats.scp")
        _concat([d / "data" / f"utt2num_frames.{j}" for j in range(1, nj + 1)],
                d / "utt2num_frames")
    utts = _utterances(data_dir)
    missing = [u for u in utts if u not in feats and u not in bad]
    extra = sorted(set(feats) - set(utts))
    if not feats:
        raise E2VError(f"no utterance of {data_dir} has features ({len(bad)} bad: see "
                       f"{feat_dir}/bad_utts)")
    if missing:
        raise E2VError(f"{len(missing)} utterance(s) of {data_dir} have no features, e.g. "
                       f"{' '.join(missing[:5])}")
    if extra:
        raise E2VError(f"{feat_dir}/feats.scp has {len(extra)} utterance(s) not in {data_dir}, "
                       f"e.g. {' '.join(extra[:5])}")
    if bad and not skip_bad:
        raise E2VError(f"{len(bad)} bad utterance(s) listed in {feat_dir}/bad_utts (from an "
                       "earlier run with --skip-bad true); fix them or pass --skip-bad true")
    audio = sum(s["audio_seconds"] for s in stats)
    base = {"feat_type": options["feat_type"], "model": options["model"],
            "layer": options["layer"], "granularity": options["granularity"],
            "dim": info["dim"], "frame_rate": info["frame_rate"] if options["granularity"] == "frame"
            else None, "sample_rate": SAMPLE_RATE, "num_utts": len(feats), "num_bad": len(bad),
            "audio_hours": round(audio / 3600, 6), "num_layers": info.get("num_layers"),
            "options": {**options, **(run_options or {}), "nj": nj}, "command": command}
    # what the extractor adds about itself (opensmile: set, level, library version)
    base.update({k: v for k, v in info.items() if k not in base})
    for k, d in enumerate(layer_dirs, 1):
        layer = str(k) if options["layer"] == "all" else options["layer"]
        atomic_write_text(d / "feat_info.json",
                          json.dumps({**base, "layer": layer}, indent=1) + "\n")
    if options["layer"] == "all":
        atomic_write_text(feat_dir / "feat_info.json", json.dumps(
            {**base, "layer": "all", "top_level_layer": len(layer_dirs)}, indent=1) + "\n")
    if copy_to_data:
        for name in ("feats.scp", "utt2num_frames"):
            atomic_write_text(data_dir / name, (feat_dir / name).read_text())
    now = time.time()
    ran = [s for s in stats if start is None or s["finished"] >= start]
    ran_audio = sum(s["audio_seconds"] for s in ran)
    elapsed = now - start if start is not None else sum(s["elapsed_seconds"] for s in ran)
    return {"num_utts": len(feats), "num_bad": len(bad), "audio_hours": audio / 3600,
            "jobs_run": len(ran), "jobs_skipped": nj - len(ran), "elapsed_seconds": elapsed,
            "audio_seconds_this_run": ran_audio,
            "real_time_factor": elapsed / ran_audio if ran_audio else None}
