"""Build every model mmvig registers and print name, parameters, FLOPs and
output shapes.

    python tools/analysis_tools/model_table.py [--size 224] [--no-flops]
"""
import argparse

import torch
import torch.nn as nn

from mmvig.analysis import count_flops
from mmvig.models import MODEL_NAMES, ViG


def rows(size, with_flops):
    for name, spec in MODEL_NAMES.items():
        # Every stage's output of the pyramids (ViG's are all alike).
        out_indices = -1 if spec.backbone is ViG else (0, 1, 2, 3)
        backbone = spec.build_backbone(out_indices=out_indices).eval()
        head = spec.build_head(backbone.out_channels[-1]).eval()
        params = sum(p.numel() for m in (backbone, head)
                     for p in m.parameters() if p.requires_grad)
        with torch.no_grad():
            outs = backbone(torch.zeros(1, 3, size, size))
        # The head takes the backbone's output tuple (and pools it).
        flops = count_flops(nn.Sequential(backbone, head),
                            (1, 3, size, size)) if with_flops else None
        yield dict(
            name=name, type=spec.backbone.__name__, params=params / 1e6,
            flops=flops,
            outputs=', '.join(
                f'{tuple(o.shape[1:])}/{i["stride"]}'
                for o, i in zip(outs, backbone.feature_info)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--size', type=int, default=224)
    parser.add_argument('--no-flops', action='store_true')
    args = parser.parse_args()
    print(f'{"model":<12} {"type":<11} {"params (M)":>10} {"FLOPs (G)":>9} '
          f'{"of it KNN":>9} {"+ rel. bias":>11}  '
          f'outputs at {args.size}x{args.size}: (C, H, W)/stride')
    for row in rows(args.size, not args.no_flops):
        flops = row['flops']
        counts = (f'{flops["total"] / 1e9:9.2f} {flops["knn"] / 1e9:9.3f} '
                  f'{flops["relative_pos"] / 1e9:11.3f}' if flops else
                  f'{"-":>9} {"-":>9} {"-":>11}')
        print(f'{row["name"]:<12} {row["type"]:<11} {row["params"]:>10.3f} '
              f'{counts}  {row["outputs"]}', flush=True)


if __name__ == '__main__':
    main()
