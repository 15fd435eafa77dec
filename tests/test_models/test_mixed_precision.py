"""Mixed precision: models cast to float16 / bfloat16, and autocast (on the
CPU with bfloat16, the stand-in for GPU AMP), for inference and training.

The graph's agreement with the float32 model's is measured on a trained
model in tests/test_tools/test_amp.py.
"""
import pytest
import torch

from mmvig.models import PyramidViG, ViG, ViGClsHead
from mmvig.ops import graph_builders

SMALL = {
    PyramidViG: dict(depths=[1, 1, 2, 1], channels=[16, 32, 48, 64]),
    ViG: dict(depth=4, channels=32),
}


def _model(cls, **kwargs):
    torch.manual_seed(0)
    model = cls(SMALL[cls], out_indices=-1, **kwargs)
    model.init_weights()
    return model


def _cpu_convolves(dtype):
    try:
        torch.nn.functional.conv2d(torch.ones(1, 1, 1, 1, dtype=dtype),
                                   torch.ones(1, 1, 1, 1, dtype=dtype))
    except RuntimeError:  # torch < 2.2 has no float16 convolution on CPU
        return False
    return True


@pytest.mark.parametrize('cls', [PyramidViG, ViG])
@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16])
def test_model_cast_to_low_precision_runs_finite(cls, dtype):
    if not _cpu_convolves(dtype):
        pytest.skip(f'this torch ({torch.__version__}) has no {dtype} '
                    f'convolution on CPU')
    model = _model(cls).to(dtype).eval()
    with torch.no_grad():
        (out, ) = model(torch.randn(2, 3, 96, 80, dtype=dtype))
    assert out.dtype == dtype and torch.isfinite(out).all()
    reference = _model(cls).eval()
    with torch.no_grad():
        (expected, ) = reference(torch.randn(2, 3, 96, 80))
    assert out.shape == expected.shape


@pytest.mark.parametrize('cls', [PyramidViG, ViG])
def test_autocast_forward_and_training_step_are_finite(cls):
    model = _model(cls, drop_path_rate=0.1)
    head = ViGClsHead(10, model.out_channels[-1])
    params = list(model.parameters()) + list(head.parameters())
    optimizer = torch.optim.AdamW(params, lr=1e-3)
    x, labels = torch.randn(4, 3, 96, 80), torch.randint(0, 10, (4, ))
    model.train(), head.train()
    for _ in range(2):
        with torch.autocast('cpu', dtype=torch.bfloat16):
            logits = head(model(x))
            loss = torch.nn.functional.cross_entropy(logits.float(), labels)
        assert logits.dtype == torch.bfloat16
        optimizer.zero_grad()
        loss.backward()
        assert torch.isfinite(loss)
        grads = [p.grad for p in params if p.grad is not None]
        assert len(grads) == len(params)
        assert all(torch.isfinite(g).all() and g.dtype == torch.float32
                   for g in grads)
        optimizer.step()
    model.eval(), head.eval()
    with torch.no_grad(), torch.autocast('cpu', dtype=torch.bfloat16):
        assert torch.isfinite(head(model(x))).all()


def test_graph_under_autocast_is_ranked_in_float32():
    """Under autocast the Grapher's features are bfloat16; the KNN ranks
    them in float32 (the graph of those features, not of a bfloat16
    distance matrix)."""
    seen = []

    def recording(builder, args, index):
        x, y, pos = args
        with torch.autocast('cpu', enabled=False):
            seen.append((x.dtype, index, builder.forward(  # no hook again
                x.float(), None if y is None else y.float(),
                None if pos is None else tuple(f.float() for f in pos))))

    model = _model(PyramidViG).eval()
    for builder in graph_builders(model):
        builder.register_forward_hook(recording)
    with torch.no_grad(), torch.autocast('cpu', dtype=torch.bfloat16):
        model(torch.randn(1, 3, 96, 80))
    assert len(seen) == sum(model.depths)
    for dtype, index, in_float32 in seen:
        assert dtype == torch.bfloat16
        assert torch.equal(index, in_float32)
