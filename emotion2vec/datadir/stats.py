"""`utils/data_dir_stats`: counts per class, speaker, session, gender, group and fold, with
durations, and the same as aligned text tables."""

from __future__ import annotations

from collections import OrderedDict
from typing import Callable, Dict, List, Mapping, Optional, Tuple

from emotion2vec.datadir.layout import DataDir, _scp_path
from emotion2vec.datadir.validate import _load_checked
from emotion2vec.errors import DataDirError
from emotion2vec.fileio import PathLike


def _durations(dd: DataDir) -> Tuple[Optional[Dict[str, float]], Optional[str], Optional[str]]:
    """(utterance -> seconds, where they came from, why there are none)."""
    dur: Optional[Dict[str, float]] = None
    source = None
    unknown = None
    if "utt2dur" in dd.files:
        dur = {u: float(v) for u, v in dd.files["utt2dur"].items()}
        source = "utt2dur"
    elif dd.has_segments:
        dur = {}
        for u, v in dd.files["segments"].items():
            f = v.split()
            dur[u] = float(f[2]) - float(f[1])
        source = "segments"
    elif "wav.scp" in dd.files:
        wav = dd.files["wav.scp"]
        paths = {u: _scp_path(v) for u, v in wav.items()}
        not_plain = [u for u, p in paths.items() if p is None or p.endswith(".ark")
                     or wav[u].rstrip().rsplit(":", 1)[-1].isdigit()]
        if not_plain:
            unknown = (f"{len(not_plain)} wav.scp entries are pipes or ark offsets and there is "
                       "no utt2dur or segments")
        else:
            import soundfile   # only here: the other tools stay fast to start
            dur = {}
            for u, p in paths.items():
                try:
                    info = soundfile.info(p)
                except Exception as e:   # soundfile raises several types; report the file
                    raise DataDirError(f"{dd.name('wav.scp')}: '{u}': cannot read audio header "
                                       f"of {p}: {e}") from None
                dur[u] = info.frames / info.samplerate
            source = "audio headers"
    else:
        unknown = "no utt2dur, segments or wav.scp"
    return dur, source, unknown


def data_dir_stats(path: PathLike) -> dict:
    """Counts per class / speaker / session / gender / group / fold, and durations.

    Durations come from utt2dur, else segments, else the headers of plain-file wav.scp entries
    (soundfile); `duration_source` says which, `duration_unknown` why none could be had."""
    dd = _load_checked(path, check_labels=False)   # it shows unknown labels in its table
    u2s = dd.utt2spk
    dur, source, unknown = _durations(dd)

    def table(fname: Optional[str], keyf: Callable[[str], str]) -> "OrderedDict[str, dict]":
        rows: Dict[str, dict] = {}
        for u in u2s:
            k = keyf(u)
            r = rows.setdefault(k, {"utts": 0, "seconds": 0.0 if dur is not None else None})
            r["utts"] += 1
            if dur is not None:
                r["seconds"] += dur[u]
        order = (_classes_order(dd, rows) if fname == "utt2emo"
                 else sorted(rows))
        return OrderedDict((k, rows[k]) for k in order)

    stats: dict = {
        "data_dir": str(path),
        "num_utts": len(u2s),
        "num_speakers": len(set(u2s.values())),
        "num_recordings": (len({v.split()[0] for v in dd.files["segments"].values()})
                           if dd.has_segments else len(u2s)),
        "total_seconds": (sum(dur.values()) if dur is not None else None),
        "duration_source": source,
        "duration_unknown": unknown,
        "tables": OrderedDict(),
    }
    for fname, title in (("utt2emo", "class"), ("utt2spk", "speaker"), ("utt2session", "session"),
                         ("utt2gender", "gender"), ("utt2group", "group"), ("utt2fold", "fold")):
        if fname in dd.files:
            m = dd.files[fname]
            stats["tables"][title] = table(fname, lambda u, m=m: m[u])
    return stats


def _classes_order(dd: DataDir, rows: Mapping[str, dict]) -> List[str]:
    cls = dd.classes() if "emotions.txt" in dd.verbatim else None
    if cls is None:
        return sorted(rows)
    return [c for c in cls if c in rows] + sorted((r for r in rows if r not in cls))


def format_stats(stats: dict) -> str:
    """The stats as aligned text tables."""
    lines = [f"{stats['data_dir']}: {stats['num_utts']} utterances, {stats['num_speakers']} "
             f"speakers, {stats['num_recordings']} recordings"]
    if stats["total_seconds"] is not None:
        lines.append(f"total duration: {stats['total_seconds'] / 3600:.3f} h "
                     f"({stats['total_seconds']:.1f} s, from {stats['duration_source']})")
    else:
        lines.append(f"total duration: unknown ({stats['duration_unknown']})")
    n = stats["num_utts"]
    for title, rows in stats["tables"].items():
        header = [title, "utts", "share"] + (["hours"] if stats["total_seconds"] is not None else [])
        body = []
        for k, r in rows.items():
            row = [k, str(r["utts"]), f"{100.0 * r['utts'] / n:.1f}%"]
            if r["seconds"] is not None:
                row.append(f"{r['seconds'] / 3600:.3f}")
            body.append(row)
        widths = [max(len(x[i]) for x in [header] + body) for i in range(len(header))]
        lines.append("")
        fmt = lambda row: "  ".join(  # noqa: E731
            c.ljust(widths[i]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(row))
        lines.append(fmt(header).rstrip())
        lines.append("  ".join("-" * w for w in widths))
        lines.extend(fmt(r).rstrip() for r in body)
    return "\n".join(lines) + "\n"
