"""The launchers' Kaldi command-line grammar and Kaldi-grammar cluster config files."""

import pytest

from emotion2vec.parallel.cli import UsageError, join_command, parse_args, substitute
from emotion2vec.parallel.config import parse_config


def test_substitute_whole_word_only():
    s = "x.JOB.log MYJOB JOB_ID JOBS $JOB JOB/a a-JOB JOB"
    assert substitute(s, "JOB", 7) == "x.7.log MYJOB JOB_ID JOBS $7 7/a a-7 7"
    assert substitute("TASK JOB", "TASK", 2) == "2 JOB"
    assert substitute("JOB", None, 2) == "JOB"


def test_join_command_like_kaldi():
    # Words without blanks stay as they are (an escaped | stays a pipe); others are quoted.
    assert join_command(["echo", "a", "|", "wc", "-l"]) == "echo a | wc -l"
    assert join_command(["echo", "a b", 'say "hi"', ""]) == "echo \"a b\" 'say \"hi\"' \"\""
    # One word is a whole shell command line.
    assert join_command(["echo a | wc -l"]) == "echo a | wc -l"


def test_parse_full_call():
    r = parse_args(["--mem", "4G", "--gpu=1", "--num-threads", "2", "--max-jobs-run", "3",
                    "--time", "1:00:00", "--config", "c.conf", "JOB=2:5", "log/x.JOB.log",
                    "prog", "JOB", "MYJOB"])
    assert r.options == {"mem": "4G", "gpu": "1", "num_threads": "2", "max_jobs_run": "3",
                         "time": "1:00:00", "config": "c.conf"}
    assert (r.jobname, r.start, r.end, r.task_ids) == ("JOB", 2, 5, [2, 3, 4, 5])
    assert r.log_for(3) == "log/x.3.log" and r.command_for(3) == "prog 3 MYJOB"


def test_parse_no_job_range_and_single_job():
    r = parse_args(["log/x.log", "echo", "hi"])
    assert r.jobname is None and r.task_ids == [1] and r.command == "echo hi"
    r = parse_args(["JOB=4", "log/x.JOB.log", "echo", "JOB"])
    assert r.task_ids == [4] and r.command_for(4) == "echo 4"


def test_raw_scheduler_switches_like_kaldi():
    r = parse_args(["-l", "arch=*64", "-V", "JOB=1:2", "-pe", "smp", "4", "-tc", "3", "l.JOB",
                    "true"])
    assert r.raw_options == ["-l", "arch=*64", "-V", "-pe", "smp", "4"]
    assert r.options == {"max_jobs_run": "3"}
    with pytest.raises(UsageError, match="option '-pe' needs two values"):
        parse_args(["-pe", "smp"])


def test_options_may_follow_the_job_range_like_kaldi():
    r = parse_args(["--mem", "2G", "JOB=1:2", "--num-threads", "2", "l.JOB", "--not-an-option"])
    assert r.options == {"mem": "2G", "num_threads": "2"}
    assert r.command == "--not-an-option" and r.log == "l.JOB"


@pytest.mark.parametrize("argv,message", [
    (["--memory", "2G", "l", "true"], "unknown option '--memory'"),
    (["--mem"], "option '--mem' needs a value"),
    ([], "missing the log file and the command"),
    (["JOB=1:3", "l.JOB.log"], "missing the command after the log file 'l.JOB.log'"),
    (["JOB=3:1", "l.JOB", "true"], "bad job range"),
    (["JOB=0:2", "l.JOB", "true"], "bad job range"),
    (["JOB=a:b", "l.JOB", "true"], "bad job range 'JOB=a:b'"),
    (["JOB=1:3", "log/x.log", "true"], "3 tasks would share one log file 'log/x.log'"),
    (["JOB=1:3", "log/MYJOB.log", "true"], "share one log file"),
])
def test_usage_errors(argv, message):
    with pytest.raises(UsageError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_args(argv)


def test_integer_options_checked():
    r = parse_args(["--num-threads", "x", "l", "true"])
    with pytest.raises(UsageError, match="--num-threads expects an integer >= 1, got 'x'"):
        r.int_option("num_threads", 1, 1)
    r = parse_args(["--gpu", "-1", "l", "true"])
    with pytest.raises(UsageError, match="--gpu expects an integer >= 0"):
        r.int_option("gpu", 0, 0)


KALDI_SLURM_CONF = """\
# a comment
command sbatch --export=PATH --ntasks-per-node=1
option time=* --time $0
option mem=* --mem-per-cpu $0
option mem=0          # Do not add anything to qsub_opts
option num_threads=* --cpus-per-task $0 --ntasks-per-node=1
option num_threads=1 --cpus-per-task 1  --ntasks-per-node=1 # Do not add anything to qsub_opts
default gpu=0
option gpu=0 -p shared
option gpu=* -p gpu --gres=gpu:$0 --time 4:0:0  # this has to be figured out
"""


def test_kaldi_config_grammar():
    cfg = parse_config("slurm.conf", KALDI_SLURM_CONF)
    assert cfg.command == ["sbatch", "--export=PATH", "--ntasks-per-node=1"]
    assert cfg.defaults == {"gpu": "0"}
    assert cfg.resolve({}) == ["-p", "shared"]
    assert cfg.resolve({"mem": "4G", "num_threads": "4", "time": "1:00:00"}) == [
        "--time", "1:00:00", "--mem-per-cpu", "4G", "--cpus-per-task", "4",
        "--ntasks-per-node=1", "-p", "shared"]
    assert cfg.resolve({"mem": "0", "num_threads": "1", "gpu": "2"}) == [
        "--cpus-per-task", "1", "--ntasks-per-node=1", "-p", "gpu", "--gres=gpu:2", "--time", "4:0:0"]


def test_config_undescribed_option_is_an_error():
    cfg = parse_config("my.conf", "command sbatch\noption mem=* --mem $0\n")
    with pytest.raises(UsageError, match=r"option --gpu 1 is not described in my.conf"):
        cfg.resolve({"gpu": "1"})
    cfg = parse_config("my.conf", "command sbatch\noption gpu=0\n")
    with pytest.raises(UsageError, match=r"option --gpu 2 is not described"):
        cfg.resolve({"gpu": "2"})


@pytest.mark.parametrize("text,message", [
    ("option mem=* --mem $0\n", "no 'command' line"),
    ("command sbatch\nopshun mem=* x\n", "line 2: expected"),
    ("command sbatch\noption mem --mem\n", "line 2: expected"),
    ("command sbatch\ndefault gpu=0 extra\n", "line 2: expected 'default name=value'"),
    ("command sbatch 'unclosed\n", "line 1"),
])
def test_config_syntax_errors(text, message):
    with pytest.raises(UsageError, match=message):
        parse_config("bad.conf", text)


def test_config_missing_file(tmp_path):
    with pytest.raises(UsageError, match="cannot read config file"):
        parse_config(str(tmp_path / "nope.conf"))


@pytest.mark.parametrize("name", ["slurm.conf", "queue.conf"])
def test_shipped_configs_parse_and_map_every_option(name):
    from pathlib import Path
    cfg = parse_config(str(Path(__file__).resolve().parents[2] / "conf" / name))
    args = cfg.resolve({"mem": "4G", "time": "1:00:00", "num_threads": "4", "gpu": "1"})
    assert "4G" in " ".join(args) and "1:00:00" in " ".join(args) and "4" in args
    assert cfg.resolve({"mem": "0", "num_threads": "1", "gpu": "0"}) == []
