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
    # PViG-Ti at 512x512: the first stage compares 128 * 128 nodes with
    # 32 * 32 pooled keys, 64 MiB of distances plus 64 MiB of bias when
    # dense. Recomputing blocks (with_cp) keeps activations small enough
    # for that to show in the peak.
    result = subprocess.run(
        [sys.executable, str(TOOL), '--arch', 'tiny', '--size', '512', '512',
         '--batch', '1', '--chunk-bytes', str(2**20), '--with-cp'],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    increase = {
        name: float(gib)
        for name, gib in re.findall(r'^(chunked|dense) .*?G +([\d.]+) G',
                                    result.stdout, re.MULTILINE)
    }
    assert set(increase) == {'chunked', 'dense'}, result.stdout
    assert increase['dense'] - increase['chunked'] > 0.06, result.stdout
