# Runtime shared by mmvig's segmentation configs (mmseg scope): mmseg's
# default runtime. The model bases import mmvig (custom_imports).
default_scope = 'mmseg'

env_cfg = dict(
    cudnn_benchmark=True,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    # mmvig's tools switch to gloo when there is no CUDA device.
    dist_cfg=dict(backend='nccl'),
)

vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(
    type='SegLocalVisualizer', vis_backends=vis_backends, name='visualizer')
log_processor = dict(by_epoch=False)

log_level = 'INFO'
load_from = None
resume = False

# tools/test.py --tta: the dataset's tta_pipeline, logits averaged.
tta_model = dict(type='SegTTAModel')
