"""The speed tools run end to end, their equality checks against mmpretrain
included (small sizes and one repetition: the figures themselves are in
docs/benchmark.md, not asserted here)."""
import re

import pytest

from ..helpers import run_tool


@pytest.mark.slow
def test_benchmark_checks_logits_then_reports_every_variant():
    result = run_tool('tools/analysis_tools/benchmark.py', 'pvig-ti',
                      '--batch', 2, '--reps', 1, '--knn', '--knn-size', 320,
                      256)
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert re.search(r'pvig-ti: logits against mmpretrain, max \|diff\| / '
                     r'max \|logit\| = \S+ \(mmvig\)', out)
    for mode, impl in [('inference', 'mmpretrain'), ('inference', 'mmvig'),
                       ('inference', 'mmvig fused'), ('train', 'mmpretrain'),
                       ('train', 'mmvig')]:
        assert re.search(rf'\| pvig-ti \| {mode} \| {impl} \| [\d.]+ \|',
                         out), (mode, impl)
    assert re.search(r'\| chunked \(64 MiB blocks\) \| [\d.]+ \| \d+ \|', out)


@pytest.mark.slow
def test_op_benchmark_checks_each_op_against_mmpretrain():
    # In bfloat16: the convolutions under autocast (checked within their
    # rounding), the aggregation on bfloat16 tensors (checked equal).
    result = run_tool('tools/analysis_tools/op_benchmark.py', '--reps', 1,
                      '--sections', 'conv', 'aggregate', 'knn', '--dtype',
                      'bfloat16')
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert 'batch 16, GFLOP/s (eval, no_grad, bfloat16)' in out
    assert out.count(' | 56x56 | ') == 3
    assert out.count('| forward |') == 2
    assert out.count('| forward + backward |') == 2
    assert re.search(r'identical\), ms:\n\n\| mmpretrain \| mmvig', out)


@pytest.mark.slow
def test_benchmark_times_the_family_without_a_reference():
    result = run_tool('tools/analysis_tools/benchmark.py', 'mobilevig-ti',
                      'greedyvig-s', '--batch', 2, '--reps', 1, '--size', 64,
                      '--dtype', 'bfloat16')
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert 'Batch 2, 64x64, bfloat16 autocast, on cpu.' in out
    assert 'GEMM peak (2048^3 bfloat16 matmul' in out
    for arch in ('mobilevig-ti', 'greedyvig-s'):
        for mode, impl in [('inference', 'mmvig'),
                           ('inference', 'mmvig fused'), ('train', 'mmvig')]:
            assert re.search(rf'\| {arch} \| {mode} \| {impl} \| [\d.]+ \|',
                             out), (arch, mode, impl)
    assert 'mmpretrain' not in out
