"""Errors about user input, reported as one clear line (no traceback) by the entry points."""


class E2VError(Exception):
    """Bad input or a failed job: the message names the file, line, utterance or job."""


class DataDirError(E2VError):
    """A Kaldi data directory (or one of its files) is malformed or inconsistent."""
