"""Job launchers with Kaldi's CLI: local (run.py), Slurm (slurm.py), Grid Engine (queue.py).

    <launcher> [--mem 4G] [--gpu N] [--num-threads N] [--max-jobs-run N] [--time T]
               [--config conf/x.conf] [JOB=1:N] <log-with-JOB> <command ...>

Standard library only: the thin wrappers in utils/parallel/ run under any python3, with or
without the project's virtual environment.  See docs/parallel.md.
"""
