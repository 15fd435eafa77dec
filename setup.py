"""mmvig: Vision GNN (ViG, Pyramid ViG) for OpenMMLab (mmpretrain, mmdet)."""
import re
from pathlib import Path

from setuptools import find_packages, setup

ROOT = Path(__file__).parent


def version():
    text = (ROOT / 'mmvig' / 'version.py').read_text()
    return re.search(r"__version__ = '([^']+)'", text).group(1)


def requirements(name):
    lines = (ROOT / 'requirements' / f'{name}.txt').read_text().splitlines()
    return [ln.split('#')[0].strip() for ln in lines if ln.split('#')[0].strip()]


setup(
    name='mmvig',
    version=version(),
    description='Vision GNN (ViG, Pyramid ViG) backbones for mmpretrain and mmdet',
    long_description=(ROOT / 'README.md').read_text(encoding='utf-8'),
    long_description_content_type='text/markdown',
    license='Apache License 2.0',
    packages=find_packages(exclude=('configs', 'tools', 'tests', 'docs', 'demo')),
    python_requires='>=3.11',
    install_requires=requirements('runtime'),
    extras_require={
        'mim': requirements('mminstall'),
        'tests': requirements('tests'),
    },
)
