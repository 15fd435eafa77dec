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


def gather_neighbours(y, index):
    """Neighbour features ``(B, N, k, C)`` of keys ``y`` ``(B, C, M)``."""
    rows, index = _key_rows(y, index)
    return rows[index]


#: Bytes of node rows processed at a time by :func:`max_relative`: the
#: running maximum and one gathered slab of a chunk stay in cache (measured
#: fastest from 1 to 2 MiB on a 1 MiB-L2 CPU, 1.2x slower at 8 MiB).
MAX_RELATIVE_CHUNK_BYTES = 2**20


class _MaxRelative(torch.autograd.Function):
    """``out[q] = [x_q, max_j y[index[q, j]] - x_q]`` per channel,
    interleaved, a chunk of nodes at a time."""

    @staticmethod
    def forward(ctx, nodes, rows, index):
        num_nodes, k = index.shape
        channels = rows.shape[1]
        step = max(1, MAX_RELATIVE_CHUNK_BYTES //
                   (channels * rows.element_size()))
        # Neighbour-major, so that each gathered slab's indices are
        # contiguous (index_select copies strided indices).
        by_neighbour = index.t().contiguous()
        out = rows.new_empty(num_nodes, channels, 2)
        best = rows.new_empty(min(step, num_nodes), channels)
        gathered = torch.empty_like(best)
        # Which neighbour gave each maximum, kept for the backward pass.
        track = ctx.needs_input_grad[1]
        if track:
            which = torch.zeros(
                num_nodes, channels, device=rows.device,
                dtype=torch.uint8 if k <= 256 else torch.int64)
        for start in range(0, num_nodes, step):
            stop = min(start + step, num_nodes)
            high, slab = best[:stop - start], gathered[:stop - start]
            torch.index_select(rows, 0, by_neighbour[0, start:stop], out=high)
            for j in range(1, k):
                torch.index_select(rows, 0, by_neighbour[j, start:stop],
                                   out=slab)
                if track:
                    # which += (slab > high) * (j - which): integer
                    # arithmetic, several times faster than masked writes.
                    chunk = which[start:stop]
                    chunk += torch.gt(slab, high).to(which.dtype) * (j - chunk)
                torch.maximum(high, slab, out=high)
            centre = nodes[start:stop]
            out[start:stop, :, 0] = centre
            torch.sub(high, centre, out=out[start:stop, :, 1])
        if track:
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
            grad_rows = grad.new_zeros(ctx.num_rows, grad.shape[1])
            grad_rows.scatter_add_(0, source, grad[..., 1])
        return grad_nodes, grad_rows, None


def max_relative(x, y, index):
    """Max-relative node features ``[x_i, max_j y_j - x_i]``, ``(B, N, 2C)``.

    Channel-interleaved as ViG was trained, ``[x_0, r_0, x_1, r_1, ...]``,
    and node-major (what a channels-last 1x1 conv reads without a copy).
    ``max_j (y_j - x_i) == max_j y_j - x_i``, so ``x_i`` is never gathered;
    neighbours are gathered, reduced and interleaved one cache-sized chunk
    of nodes at a time, never materialising the ``(B, N, k, C)`` gather.
    The gradient goes to the one neighbour that gave each maximum. In a
    captured graph (:func:`~mmvig.ops.knn_graph.capturing_graph`) it is a
    gather and ``amax`` instead, equal values.

    Args:
        x (Tensor): nodes ``(B, C, N)``.
        y (Tensor): keys ``(B, C, M)``.
        index (Tensor): neighbour indices ``(B, N, k)`` into the keys.
    """
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
        out = _MaxRelative.apply(nodes, rows, index)
    return out.view(batch, num_nodes, 2 * channels)


__all__ = ['gather_neighbours', 'max_relative']
