"""The declared ranges (setup.py's requirements/*.txt) against what is
built and tested: requirements/lock.txt (the pinned stack of `make`) and the
two ends tools/check_compat.sh tests (requirements/compat/*.txt)."""
import re

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from .helpers import ROOT

DECLARED = ('runtime', 'mminstall', 'det', 'seg', 'deploy')


def read(path):
    lines = (ROOT / 'requirements' / path).read_text().splitlines()
    return [ln.split('#')[0].strip() for ln in lines
            if ln.split('#')[0].strip()]


def ranges():
    """``{name: SpecifierSet}`` of every declared requirement with a range."""
    found = {}
    for name in DECLARED:
        for line in read(f'{name}.txt'):
            req = Requirement(line)
            if req.specifier:
                found[req.name] = req.specifier
    return found


def pins(path):
    """``{name: Version}`` of the ``==`` / ``===`` pins in a file."""
    found = {}
    for line in read(path):
        match = re.fullmatch(r'([A-Za-z0-9_.-]+)===?([0-9.]+)', line)
        if match:
            found[match.group(1)] = Version(match.group(2))
    return found


@pytest.mark.parametrize('path', ['lock.txt', 'compat/lowest.txt',
                                  'compat/newest.txt'])
def test_every_built_stack_lies_in_the_declared_ranges(path):
    declared = ranges()
    pinned = pins(path)
    assert set(declared) <= set(pinned), set(declared) - set(pinned)
    for name, version in pinned.items():
        if name in declared:
            assert version in declared[name], (path, name, version,
                                               declared[name])


def test_lowest_spec_is_the_lower_bound_of_every_range():
    lowest = pins('compat/lowest.txt')
    for name, specifier in ranges().items():
        lower, = [Version(s.version) for s in specifier if s.operator == '>=']
        # A bound with fewer parts is met by its patch releases (2.1: 2.1.2).
        assert lowest[name].release[:len(lower.release)] == lower.release, (
            name, lower, lowest[name])


def test_newest_spec_has_the_newest_torch_below_the_upper_bound():
    newest = pins('compat/newest.txt')
    upper = [Version(s.version) for s in ranges()['torch']
             if s.operator == '<']
    assert upper == [Version(f'{newest["torch"].major}.'
                             f'{newest["torch"].minor + 1}')]
