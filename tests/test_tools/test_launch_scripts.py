"""The launch scripts' ports and Slurm layout, with the launcher replaced by
a stub that prints what it was asked to run (nothing is started)."""
import os
import re
import sys

from ..helpers import ROOT, run_tool

# Prints its command line and MASTER_PORT; a `-c` snippet (the free-port
# probe) runs in this interpreter.
STUB = f'''#!/usr/bin/env bash
if [ "$1" = -c ]; then exec {sys.executable} "$@"; fi
echo "ARGS $*"
echo "MASTER_PORT=${{MASTER_PORT:-}}"
'''


def stub_env(tmp_path, **variables):
    stub = tmp_path / 'srun'
    if not stub.exists():
        stub.write_text(STUB)
        stub.chmod(0o755)
    env = {k: v for k, v in os.environ.items()
           if k not in ('PORT', 'MASTER_PORT')}
    env.update(PYTHON=str(stub), PATH=f'{tmp_path}:{env["PATH"]}',
               **variables)
    return env


def launched(tmp_path, script, *args, **variables):
    result = run_tool('bash', ROOT / 'tools' / script, *args,
                      env=stub_env(tmp_path, **variables))
    return result.returncode, result.stdout + result.stderr


def test_dist_scripts_pick_a_free_port_unless_one_is_given(tmp_path):
    code, out = launched(tmp_path, 'dist_train.sh', 'cfg.py', '2')
    assert code == 0, out
    port = int(re.search(r'--master_port=(\d+)', out).group(1))
    assert port != 29500 and 1024 <= port < 65536
    assert '--nproc_per_node=2' in out and '--launcher pytorch' in out
    for variable in ('PORT', 'MASTER_PORT'):
        code, out = launched(tmp_path, 'dist_test.sh', 'cfg.py', 'c.pth',
                             '2', **{variable: '12345'})
        assert code == 0 and '--master_port=12345' in out, out


def test_several_nodes_need_a_port(tmp_path):
    code, out = launched(tmp_path, 'dist_train.sh', 'cfg.py', '8',
                         NNODES='2')
    assert code != 0
    assert 'set PORT (or MASTER_PORT) to one free port, the same on all ' \
        '2 nodes' in out
    code, out = launched(tmp_path, 'dist_train.sh', 'cfg.py', '8',
                         NNODES='2', PORT='23456')
    assert code == 0 and '--master_port=23456' in out, out


def test_slurm_with_fewer_gpus_than_a_node_and_a_port(tmp_path):
    code, out = launched(tmp_path, 'slurm_train.sh', 'part', 'job', 'c.py',
                         'work', GPUS='4')
    assert code == 0, out
    assert '--gres=gpu:4 --ntasks=4 --ntasks-per-node=4' in out
    port = int(re.search(r'MASTER_PORT=(\d+)', out).group(1))
    assert port != 29500
    code, out = launched(tmp_path, 'slurm_train.sh', 'part', 'job', 'c.py',
                         'work', GPUS='16', MASTER_PORT='3456')
    assert code == 0, out
    assert '--gres=gpu:8 --ntasks=16 --ntasks-per-node=8' in out
    assert 'MASTER_PORT=3456' in out and '--launcher=slurm' in out
