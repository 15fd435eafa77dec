"""Dilated k-nearest-neighbour graph construction for Vision GNN.

For each query node ``x_i`` the graph links the keys ``y_j`` nearest to it in
L2-normalised feature space, optionally biased by a relative-position term
(Pyramid ViG). Dilated KNN (DeepGCNs, Li et al. 2019) takes the ``k * d``
nearest keys and keeps every ``d``-th; its stochastic variant keeps a random
``k`` of them during training.

Memory is bounded: queries are processed in chunks so that a distance block
never exceeds ``max_chunk_bytes``, and the relative-position bias is never
stored as an ``N x M`` tensor. It is the inner product of two low-rank
factors (one row per query, one per key) and is formed per chunk.

While ``torch.onnx.export`` or ``torch.compile`` captures a graph
(:func:`capturing_graph`), :class:`~mmvig.ops.KNNGraph` takes the same
neighbours from fixed-size ops instead (:func:`fixed_size_knn_graph`): one distance block, a top-k of the constant ``k * dilation`` (what
TensorRT requires) over keys padded with ``+inf``, and the small-input clamp
computed in the graph, so that one graph serves every input size.

Distances are ranked in float32 (or float64 for float64 features) whatever
the features' dtype and under autocast: in float16 / bfloat16 the distances
of a node's nearest keys differ by less than their rounding step, and the
graph would change with the precision (docs/robustness.md measures it).
"""
import torch
import torch.nn.functional as F

from mmvig.validation import check_chunk_bytes, check_int, check_range

DEFAULT_CHUNK_BYTES = 64 * 2**20


def capturing_graph():
    """Whether ``torch.onnx.export`` or ``torch.compile`` is capturing the
    model as a graph. The ops then avoid what a graph cannot hold (Python
    arithmetic on shapes, chunk loops, ``out=`` writes), so that one graph
    serves every input size."""
    return torch.onnx.is_in_onnx_export() or torch.compiler.is_compiling()


def sincos_pos_embed_2d(height, width, channels, dtype=torch.float32,
                        device=None):
    """2-D sin-cos position embedding of a ``height x width`` node grid.

    Nodes are flattened row-major. The first half of the channels encodes the
    column, the second half the row (as in MAE, which ViG's code follows).

    Returns:
        Tensor: ``(height * width, channels)``.
    """
    if channels % 4 != 0:
        raise ValueError(
            f'the sin-cos position embedding needs channels divisible by 4, '
            f'got {channels}')
    omega = torch.arange(channels // 4, dtype=torch.float32, device=device)
    omega = 1. / 10000**(omega / (channels / 4))
    rows, cols = torch.meshgrid(
        torch.arange(height, dtype=torch.float32, device=device),
        torch.arange(width, dtype=torch.float32, device=device),
        indexing='ij')
    parts = []
    for coord in (cols, rows):
        angles = coord.reshape(-1, 1) * omega
        parts += [angles.sin(), angles.cos()]
    return torch.cat(parts, dim=1).to(dtype)


def relative_pos_factors(height, width, channels, num_keys, dtype=None,
                         device=None):
    """Factors of ViG's relative-position bias for a ``height x width`` grid.

    The released Pyramid ViG checkpoints were trained with the bias
    ``B = resize(-2 * PE @ PE.T / C)``, an ``(n, n)`` matrix bicubically
    resized to ``(n, num_keys)`` along the flattened key index. That resize
    acts on the key index only and is linear, so it commutes with the inner
    product: ``B = PE @ resize(-2 * PE / C).T``. Returning both factors lets
    :func:`knn_graph` form the bias chunk by chunk instead of storing it.

    Returns:
        tuple[Tensor, Tensor]: query factor ``(n, C)`` and key factor
        ``(num_keys, C)`` whose product is the ``(n, num_keys)`` bias.
    """
    pe = sincos_pos_embed_2d(height, width, channels, device=device)
    keys = -2. / channels * pe
    # In a captured graph the sizes are not known here; resizing to the
    # same size is the identity (bicubic weights 0, 1, 0, 0).
    if capturing_graph() or num_keys != pe.shape[0]:
        # Bicubic resize over the flattened key index, exactly as the
        # checkpoints were trained (a size-1 height axis is left untouched).
        keys = F.interpolate(
            keys.t()[None, :, None, :], size=(1, num_keys), mode='bicubic',
            align_corners=False)[0, :, 0].t()
    dtype = dtype or pe.dtype
    return pe.to(dtype), keys.contiguous().to(dtype)


def clamp_neighbours(k, dilation, num_keys):
    """Largest ``(k, dilation)`` with ``k * dilation <= num_keys``.

    Dilation is reduced first, so that ``k`` neighbours are kept whenever
    there are that many keys. :func:`knn_graph` applies it silently; the
    backbones warn once per input size (a per-call warning would repeat in
    every block of every forward).
    """
    if k * dilation <= num_keys:
        return k, dilation
    new_k = min(k, num_keys)
    return new_k, max(1, num_keys // new_k)


@torch.no_grad()
def knn_graph(x, y=None, k=9, dilation=1, *, stochastic=False, epsilon=0.2,
              training=False, pos_factors=None,
              max_chunk_bytes=DEFAULT_CHUNK_BYTES):
    """Indices of each query's dilated nearest keys.

    Args:
        x (Tensor): query features ``(B, C, N)``.
        y (Tensor, optional): key features ``(B, C, M)``. Defaults to ``x``
            (then every node is its own nearest neighbour).
        k (int): neighbours per query.
        dilation (int): keep every ``dilation``-th of the ``k * dilation``
            nearest keys.
        stochastic (bool): with probability ``epsilon`` during training,
            keep a random ``k`` of the ``k * dilation`` nearest instead.
        epsilon (float): see ``stochastic``.
        training (bool): whether the caller is in training mode.
        pos_factors (tuple[Tensor, Tensor], optional): relative-position
            bias as factors ``(N, P)`` and ``(M, P)`` (see
            :func:`relative_pos_factors`); their product is added to the
            squared distance.
        max_chunk_bytes (int, optional): bound on a distance block
            ``(B, chunk, M)``; ``None`` computes all queries at once (the
            dense formulation, for comparisons).

    Returns:
        Tensor: ``(B, N, k')`` int64 indices into the keys, nearest first,
        where ``k' = k`` unless the input has fewer than ``k`` keys (see
        :func:`clamp_neighbours`).
    """
    check_int('k', k, owner='knn_graph')
    check_int('dilation', dilation, owner='knn_graph')
    check_range('epsilon', epsilon, 0, 1, owner='knn_graph')
    check_chunk_bytes('max_chunk_bytes', max_chunk_bytes, owner='knn_graph')
    if x.dim() != 3 or y is not None and (y.dim() != 3
                                          or y.shape[:2] != x.shape[:2]):
        raise ValueError(
            f'knn_graph expects queries (B, C, N) and keys (B, C, M) of the '
            f'same B and C, got {tuple(x.shape)} and '
            f'{None if y is None else tuple(y.shape)}')
    batch, _, num_queries = x.shape
    num_keys = num_queries if y is None else y.shape[-1]
    if num_keys == 0:
        raise ValueError('knn_graph needs at least one key node, got 0')
    k, dilation = clamp_neighbours(k, dilation, num_keys)
    if batch == 0 or num_queries == 0:
        return torch.empty(batch, num_queries, k, dtype=torch.long,
                           device=x.device)
    with torch.autocast(x.device.type, enabled=False):
        nearest = _nearest_keys(x, y, k * dilation, pos_factors,
                                max_chunk_bytes)
    if stochastic and training and torch.rand(1).item() < epsilon:
        keep = torch.randperm(k * dilation, device=nearest.device)[:k]
        return nearest[..., keep]
    return nearest[..., ::dilation]


def _normalized(x, y, pos_factors):
    """Unit-norm queries and keys (``y`` None: the queries) and the
    relative-position factors, in float32 at least (see the module
    docstring)."""
    dtype = torch.promote_types(x.dtype, torch.float32)
    x = F.normalize(x.to(dtype), dim=1)
    y = x if y is None else F.normalize(y.to(dtype), dim=1)
    if pos_factors is not None:
        pos_factors = tuple(f.to(dtype) for f in pos_factors)
    return x, y, pos_factors


def _nearest_keys(x, y, span, pos_factors, max_chunk_bytes):
    """The ``span`` nearest keys of each query, ``(B, N, span)``, ranked in
    float32 at least (see the module docstring)."""
    x, y, pos_factors = _normalized(x, y, pos_factors)
    batch, _, num_queries = x.shape
    num_keys = y.shape[-1]

    # ||x_i - y_j||^2 = ||x_i||^2 + ||y_j||^2 - 2 x_i.y_j; the first term is
    # the same for every key of a query, so it cannot change the ranking.
    key_sq = y.pow(2).sum(dim=1, keepdim=True)  # (B, 1, M)
    queries = x.transpose(1, 2)  # (B, N, C)
    if max_chunk_bytes is None:
        chunk = num_queries
    else:
        row_bytes = batch * num_keys * x.element_size()
        chunk = max(1, min(num_queries, max_chunk_bytes // row_bytes))

    # One distance block serves every chunk: a fresh allocation this large
    # would cost page faults on each chunk.
    block = x.new_empty(batch * chunk * num_keys)
    if pos_factors is not None:
        query_pos, key_pos = pos_factors
    nearest = []
    for start in range(0, num_queries, chunk):
        rows = slice(start, start + chunk)
        size = min(chunk, num_queries - start)
        dist = block[:batch * size * num_keys].view(batch, size, num_keys)
        if pos_factors is None:
            dist.copy_(key_sq.expand_as(dist))
        else:
            torch.add(query_pos[rows] @ key_pos.t(), key_sq, out=dist)
        # In place: the GEMM accumulates onto the terms already there.
        torch.baddbmm(dist, queries[:, rows], y, alpha=-2, out=dist)
        nearest.append(dist.topk(span, dim=-1, largest=False).indices)
    return torch.cat(nearest, dim=1) if len(nearest) > 1 else nearest[0]


def fixed_size_knn_graph(x, y=None, k=9, dilation=1, *, pos_factors=None,
                         sample_probability=0.):
    """:func:`knn_graph` as fixed-size ops (what exported and compiled graphs
    run): the neighbours of the eager path wherever the keys are at least
    ``k``. Ranked in float32 at least, autocast or not.

    ``k * dilation`` keys at ``+inf`` distance are appended, so that the
    top-k of that constant size exists for any number of keys ``M``; the
    clamp of :func:`clamp_neighbours` is then applied to the ranking in
    tensor ops. With fewer than ``k`` keys the eager path returns ``M``
    columns; here the ``k`` columns repeat the farthest key (the same
    maximum for the ``mr``, ``edge`` and ``sage`` convs; ``gin`` sums
    differ). The whole ``(B, N, M + k * dilation)`` block is formed at once.
    The stochastic variant draws in tensor ops too (``.item()`` would break
    a compiled graph).
    """
    with torch.autocast(x.device.type, enabled=False):
        return _fixed_size_neighbours(x, y, k, dilation, pos_factors,
                                      sample_probability)


def _fixed_size_neighbours(x, y, k, dilation, pos_factors,
                           sample_probability):
    x, y, pos_factors = _normalized(x, y, pos_factors)
    span = k * dilation
    pad_keys = (0, span)
    key_sq = F.pad(y.pow(2).sum(dim=1, keepdim=True), pad_keys,
                   value=float('inf'))
    if pos_factors is not None:
        query_pos, key_pos = pos_factors
        key_sq = query_pos @ F.pad(key_pos.t(), pad_keys) + key_sq
    dist = torch.baddbmm(key_sq, x.transpose(1, 2), F.pad(y, pad_keys),
                         alpha=-2)
    distance, nearest = dist.topk(span, dim=-1, largest=False)
    found = (distance < float('inf')).sum(dim=-1, keepdim=True)  # min(M, span)
    step = torch.where(found < span, (found // k).clamp(min=1), dilation)
    columns = torch.arange(k, device=x.device) * step
    if sample_probability > 0:
        sampled = torch.randperm(span, device=x.device)[:k]
        columns = torch.where(
            torch.rand((), device=x.device) < sample_probability, sampled,
            columns)
    return nearest.gather(-1, torch.minimum(columns, found - 1))


__all__ = [
    'DEFAULT_CHUNK_BYTES', 'capturing_graph', 'sincos_pos_embed_2d',
    'relative_pos_factors', 'clamp_neighbours', 'knn_graph',
    'fixed_size_knn_graph'
]
