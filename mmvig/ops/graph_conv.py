"""The aggregation of ViG's graph convolutions over a neighbour list (paper
Table 6): gathering the neighbours, and the max-relative reduction.
:class:`~mmvig.models.layers.GraphConv` adds the learned update.

Both read key nodes ``y`` ``(B, C, M)`` and neighbour indices ``(B, N, k)``
into the keys (from a :class:`~mmvig.ops.KNNGraph`).
"""
import torch
from torch.autograd.function import once_differentiable

from .knn_graph import capturing_graph


def _key_rows(y, index):
    """Keys ``(B, C, M)`` as rows ``(B * M, C)`` (a view when ``y`` is
    channels-last) and ``index`` ``(B, N, k)`` offset into those rows."""
    batch, channels, num_keys = y.shape
    offset = torch.arange(batch, device=y.device).view(-1, 1, 1) * num_keys
    rows = y.transpose(1, 2).reshape(batch * num_keys, channels)
    return rows, index + offset


class _GatherRows(torch.autograd.Function):
    """``rows[index]`` whose backward pass sums the gradients of a row
    gathered many times in float32 at least (``index_add_``, deterministic on
    CUDA under ``torch.use_deterministic_algorithms(True)``), where
    autograd's would accumulate in the gradient's dtype (float16 under
    AMP)."""

    @staticmethod
    def forward(ctx, rows, index):
        ctx.save_for_backward(index)
        ctx.num_rows = rows.shape[0]
        gathered = rows.index_select(0, index.flatten())
        return gathered.view(*index.shape, rows.shape[1])

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        (index, ) = ctx.saved_tensors
        dtype = torch.promote_types(grad.dtype, torch.float32)
        grad_rows = grad.new_zeros(ctx.num_rows, grad.shape[-1], dtype=dtype)
        grad_rows.index_add_(0, index.flatten(),
                             grad.reshape(-1, grad.shape[-1]).to(dtype))
        return grad_rows.to(grad.dtype), None


def gather_neighbours(y, index):
    """Neighbour features ``(B, N, k, C)`` of keys ``y`` ``(B, C, M)``: one
    gather, whatever the batch and the nodes."""
    rows, index = _key_rows(y, index)
    if capturing_graph():
        return rows[index]  # plain indexing for exporters and compilers
    return _GatherRows.apply(rows, index)


#: Bytes of node rows processed at a time by :func:`max_relative` on the
#: CPU: the running maximum and one gathered slab of a chunk stay in cache
#: (measured fastest from 1 to 2 MiB on a 1 MiB-L2 CPU, 1.2x slower at
#: 8 MiB).
MAX_RELATIVE_CHUNK_BYTES = 2**20
#: Bytes of gathered neighbours ``(nodes, k, C)`` held at a time by
#: :func:`max_relative` on a GPU: one chunk (a constant number of kernels)
#: for Pyramid ViG-S stage 1 up to batch 64 in float32 (539 MiB) and batch
#: 128 under float16 autocast, two at batch 128 in float32, a few at
#: detection sizes; a transient slab small beside a GPU's memory.
MAX_RELATIVE_GATHER_BYTES = 2**30
#: How :func:`max_relative` reduces the neighbours, by device type: a loop
#: over neighbours in cache-sized chunks (CPU), or one gather and one max
#: per chunk of :data:`MAX_RELATIVE_GATHER_BYTES` (any other device, where
#: a per-neighbour loop would wait on kernel launches).
MAX_RELATIVE_PATHS = ('loop', 'gather')


def max_relative_path(device):
    """The path of :data:`MAX_RELATIVE_PATHS` that :func:`max_relative`
    takes on ``device``."""
    return 'loop' if torch.device(device).type == 'cpu' else 'gather'


def _neighbour_dtype(k):
    """The smallest integer dtype that holds a neighbour number ``< k``."""
    return torch.uint8 if k <= 256 else torch.int64


def _max_relative_loop(nodes, rows, index, out, which):
    """Fill ``out`` and ``which`` a cache-sized chunk of nodes at a time,
    one neighbour at a time: every op stays in cache (the CPU path)."""
    num_nodes, k = index.shape
    channels = rows.shape[1]
    step = max(1, MAX_RELATIVE_CHUNK_BYTES // (channels * rows.element_size()))
    # Neighbour-major, so that each gathered slab's indices are contiguous
    # (index_select copies strided indices).
    by_neighbour = index.t().contiguous()
    best = rows.new_empty(min(step, num_nodes), channels)
    gathered = torch.empty_like(best)
    for start in range(0, num_nodes, step):
        stop = min(start + step, num_nodes)
        high, slab = best[:stop - start], gathered[:stop - start]
        torch.index_select(rows, 0, by_neighbour[0, start:stop], out=high)
        for j in range(1, k):
            torch.index_select(rows, 0, by_neighbour[j, start:stop],
                               out=slab)
            if which is not None:
                # which += (slab > high) * (j - which): integer arithmetic,
                # several times faster than masked writes.
                chunk = which[start:stop]
                chunk += torch.gt(slab, high).to(which.dtype) * (j - chunk)
            torch.maximum(high, slab, out=high)
        centre = nodes[start:stop]
        out[start:stop, :, 0] = centre
        torch.sub(high, centre, out=out[start:stop, :, 1])


def _max_relative_gather(nodes, rows, index, out, which):
    """Fill ``out`` and ``which`` with one gather and one max per chunk of
    :data:`MAX_RELATIVE_GATHER_BYTES`: a constant number of kernels
    whatever the batch and the nodes, up to that budget (the GPU path)."""
    num_nodes, k = index.shape
    channels = rows.shape[1]
    step = max(1, MAX_RELATIVE_GATHER_BYTES //
               (k * channels * rows.element_size()))
    for start in range(0, num_nodes, step):
        stop = min(start + step, num_nodes)
        gathered = rows.index_select(0, index[start:stop].flatten())
        # max over dim 1 returns the first maximum's neighbour on the CPU
        # and on CUDA; ties between equal rows give the same gradient.
        high, arg = gathered.view(stop - start, k, channels).max(dim=1)
        centre = nodes[start:stop]
        out[start:stop, :, 0] = centre
        torch.sub(high, centre, out=out[start:stop, :, 1])
        if which is not None:
            which[start:stop] = arg


_MAX_RELATIVE_FILLS = dict(loop=_max_relative_loop,
                           gather=_max_relative_gather)


class _MaxRelative(torch.autograd.Function):
    """``out[q] = [x_q, max_j y[index[q, j]] - x_q]`` per channel,
    interleaved, by one of :data:`MAX_RELATIVE_PATHS`.

    The backward pass sends each output gradient to the neighbour that gave
    the maximum, accumulated into shared keys in float32 (never float16
    atomics) with ``scatter_add_``, which is deterministic on CUDA under
    ``torch.use_deterministic_algorithms(True)`` and on the CPU always.
    """

    @staticmethod
    def forward(ctx, nodes, rows, index, path):
        num_nodes, k = index.shape
        out = rows.new_empty(num_nodes, rows.shape[1], 2)
        # Which neighbour gave each maximum, kept for the backward pass.
        which = None
        if ctx.needs_input_grad[1]:
            which = torch.zeros(num_nodes, rows.shape[1], device=rows.device,
                                dtype=_neighbour_dtype(k))
        _MAX_RELATIVE_FILLS[path](nodes, rows, index, out, which)
        if which is not None:
            ctx.save_for_backward(index, which)
            ctx.num_rows = rows.shape[0]
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        grad_nodes = grad[..., 0] - grad[..., 1]
        grad_rows = None
        if ctx.needs_input_grad[1]:
            index, which = ctx.saved_tensors
            source = index.gather(1, which.long())  # row of each maximum
            # A key shared by many queries sums many terms: float32 at least.
            dtype = torch.promote_types(grad.dtype, torch.float32)
            grad_rows = grad.new_zeros(ctx.num_rows, grad.shape[1],
                                       dtype=dtype)
            grad_rows.scatter_add_(0, source, grad[..., 1].to(dtype))
            grad_rows = grad_rows.to(grad.dtype)
        return grad_nodes, grad_rows, None, None


def max_relative(x, y, index, path=None):
    """Max-relative node features ``[x_i, max_j y_j - x_i]``, ``(B, N, 2C)``.

    Channel-interleaved as ViG was trained, ``[x_0, r_0, x_1, r_1, ...]``,
    and node-major (what a channels-last 1x1 conv reads without a copy).
    ``max_j (y_j - x_i) == max_j y_j - x_i``, so ``x_i`` is never gathered.
    On the CPU neighbours are gathered, reduced and interleaved one
    cache-sized chunk of nodes at a time, never materialising the
    ``(B, N, k, C)`` gather; on a GPU one gather and one max per chunk of
    :data:`MAX_RELATIVE_GATHER_BYTES`, so that the kernel launches do not
    grow with the batch or the nodes. Both give equal values. The gradient
    goes to the one neighbour that gave each maximum. In a captured graph
    (:func:`~mmvig.ops.knn_graph.capturing_graph`) it is a gather and
    ``amax`` instead, equal values.

    Args:
        x (Tensor): nodes ``(B, C, N)``.
        y (Tensor): keys ``(B, C, M)``.
        index (Tensor): neighbour indices ``(B, N, k)`` into the keys.
        path (str, optional): one of :data:`MAX_RELATIVE_PATHS`; defaults
            to the device's (:func:`max_relative_path`).
    """
    path = path or max_relative_path(y.device)
    if path not in MAX_RELATIVE_PATHS:
        raise ValueError(f'unknown max-relative path {path!r}; choose from '
                         f'{MAX_RELATIVE_PATHS}')
    batch, num_nodes, k = index.shape
    rows, index = _key_rows(y, index)
    channels = x.shape[1]  # explicit sizes: a batch of 0 has no -1
    nodes = x.transpose(1, 2).reshape(batch * num_nodes, channels)
    index = index.view(batch * num_nodes, k)
    if capturing_graph():
        # Plain ops that an exporter or compiler can hold (and fuse).
        high = rows[index].amax(dim=1)
        out = torch.stack([nodes, high - nodes], dim=-1)
    else:
        out = _MaxRelative.apply(nodes, rows, index, path)
    return out.view(batch, num_nodes, 2 * channels)


__all__ = ['gather_neighbours', 'max_relative']
