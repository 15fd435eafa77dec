from .axial_vig import GreedyViG, MobileViG
from .pyramid_vig import PyramidViG
from .vig import ViG

#: The short names of configs and tools (``'vig-ti'`` ... ``'pvig-b'``),
#: each the backbone class and its ``arch``.
ARCH_NAMES = {
    f'{prefix}-{short}': (cls, arch)
    for prefix, cls in (('vig', ViG), ('pvig', PyramidViG))
    for arch, short in (('tiny', 'ti'), ('small', 's'), ('medium', 'm'),
                        ('base', 'b')) if arch in cls.arch_settings
}

__all__ = ['ViG', 'PyramidViG', 'MobileViG', 'GreedyViG', 'ARCH_NAMES']
