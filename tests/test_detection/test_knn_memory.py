"""tools/analysis_tools/knn_memory.py: the chunked KNN saves the dense
distance matrix's memory."""
import re
import subprocess
import sys
import pytest

from ..helpers import ROOT

TOOL = ROOT / 'tools' / 'analysis_tools' / 'knn_memory.py'


@pytest.mark.slow
def test_dense_knn_needs_its_distance_matrix_chunked_does_not():
    # PViG-Ti at 1024x1024: the first stage compares 256 * 256 nodes with
    # 64 * 64 pooled keys, 1 GiB of distances plus 1 GiB of bias when dense,
    # 1 MiB blocks when chunked. Recomputing blocks (with_cp) keeps the
    # activations (about 1 GiB) from hiding that. At 512x512 the dense
    # matrices were only 128 MiB, and whether that moment was the process's
    # peak varied between machines (measured 0.03 to 0.10 GiB apart).
    result = subprocess.run(
        [sys.executable, str(TOOL), '--arch', 'tiny', '--size', '1024',
         '1024', '--batch', '1', '--chunk-bytes', str(2**20), '--with-cp'],
        capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    increase = {
        name: float(gib)
        for name, gib in re.findall(r'^(chunked|dense) .*?G +([\d.]+) G',
                                    result.stdout, re.MULTILINE)
    }
    assert set(increase) == {'chunked', 'dense'}, result.stdout
    # At least three quarters of the dense distance matrix (1 GiB) is saved.
    assert increase['dense'] - increase['chunked'] > 0.75, result.stdout
