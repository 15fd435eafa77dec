"""Convert an authors' or mmpretrain checkpoint of a Vision GNN (ViG, Pyramid
ViG, MobileViG, GreedyViG, MobileViGv2, AdaptViG) to mmvig's key layout.

    python tools/model_converters/vig2mmvig.py SRC DST [--arch pvig-s]

SRC may be a local path or an http(s) URL. mmvig also converts these files
transparently when loading them; converting once gives a file whose keys
match mmvig's modules (``backbone.*``, ``head.*``), e.g. for other tools.
With ``--arch``, the result is checked strictly against that model.
"""
import argparse
import sys

import torch

from mmvig.checkpoint import (CheckpointError, load_file,
                              load_state_dict_strict, state_dict_of,
                              sub_state_dict, to_mmvig_layout)
from mmvig.models import MODEL_NAMES


def check(state_dict, name, source):
    """Load the converted weights strictly into the named model."""
    spec = MODEL_NAMES[name]
    backbone = spec.build_backbone()
    load_state_dict_strict(
        backbone, sub_state_dict(state_dict, 'backbone.'), source)
    head_sd = sub_state_dict(state_dict, 'head.')
    if head_sd:
        head = spec.build_head(backbone.out_channels[-1],
                               head_sd['fc2.weight'].shape[0])
        load_state_dict_strict(head, head_sd, source)


def main(argv=None):
    parser = argparse.ArgumentParser(
        description='Convert a ViG checkpoint to mmvig keys.')
    parser.add_argument('src', help='checkpoint path or http(s) URL')
    parser.add_argument('dst', help='output .pth path')
    parser.add_argument('--arch', choices=list(MODEL_NAMES),
                        help='check the result strictly against this model')
    args = parser.parse_args(argv)
    try:
        state_dict, layout, dropped = to_mmvig_layout(
            state_dict_of(load_file(args.src)))
        if layout is None:
            raise CheckpointError(
                f'{args.src} is not a ViG checkpoint in the authors\', '
                f'mmpretrain\'s or mmvig\'s layout')
        if args.arch:
            check(state_dict, args.arch, args.src)
    except (CheckpointError, FileNotFoundError) as err:
        sys.exit(f'error: {err}')
    torch.save(dict(state_dict=state_dict,
                    meta=dict(converted_from=args.src, layout=layout)),
               args.dst)
    print(f'{args.src} ({layout} layout) -> {args.dst}: {len(state_dict)} '
          f'tensors' + (f', dropped {len(dropped)} fixed relative_pos '
                        f'buffers' if dropped else '') +
          (f', checked against {args.arch}' if args.arch else ''))


if __name__ == '__main__':
    main()
