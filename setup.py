"""mmvig: Vision GNN (ViG, Pyramid ViG, MobileViG, GreedyViG) for OpenMMLab."""
import re
import shutil
import sys
from pathlib import Path

from setuptools import find_packages, setup

ROOT = Path(__file__).parent
# What `mim` and mmpretrain's model hub look for in <package>/.mim (as in mmpretrain and mmdet).
MIM_FILES = ('configs', 'tools', 'demo', 'model-index.yml')


def version():
    text = (ROOT / 'mmvig' / 'version.py').read_text()
    return re.search(r"__version__ = '([^']+)'", text).group(1)


def requirements(name):
    lines = (ROOT / 'requirements' / f'{name}.txt').read_text().splitlines()
    return [ln.split('#')[0].strip() for ln in lines if ln.split('#')[0].strip()]


def add_mim_extension():
    """Put MIM_FILES into mmvig/.mim: links for editable installs (they follow the
    checkout), copies for wheels and sdists. Other commands (metadata) leave it alone."""
    if {'develop', 'editable_wheel'} & set(sys.argv):
        mode = 'link'
    elif {'bdist_wheel', 'sdist', 'build', 'build_py'} & set(sys.argv):
        mode = 'copy'
    else:
        return
    mim = ROOT / 'mmvig' / '.mim'
    mim.mkdir(exist_ok=True)
    for name in MIM_FILES:
        src, dst = ROOT / name, mim / name
        if dst.is_symlink() or dst.is_file():
            dst.unlink()
        elif dst.is_dir():
            shutil.rmtree(dst)
        if mode == 'link':
            dst.symlink_to(Path('..', '..', name), target_is_directory=src.is_dir())
        elif src.is_dir():
            shutil.copytree(src, dst, ignore=shutil.ignore_patterns('__pycache__', '*.pyc'))
        else:
            shutil.copyfile(src, dst)


add_mim_extension()
setup(
    name='mmvig',
    version=version(),
    description='Vision GNN (ViG, Pyramid ViG, MobileViG, GreedyViG) for mmpretrain, mmdet and mmseg',
    long_description=(ROOT / 'README.md').read_text(encoding='utf-8'),
    long_description_content_type='text/markdown',
    license='Apache License 2.0',
    packages=find_packages(exclude=('configs', 'tools', 'tests', 'tests.*', 'docs', 'demo')),
    package_data={'mmvig': ['.mim/model-index.yml', '.mim/configs/**/*', '.mim/tools/**/*',
                            '.mim/demo/**/*']},
    python_requires='>=3.11',
    install_requires=requirements('runtime'),
    extras_require={
        'mim': requirements('mminstall'),
        'det': requirements('det'),
        'seg': requirements('seg'),
        'deploy': requirements('deploy'),
        'tests': requirements('tests'),
    },
)
