"""The library and its tools reach graphs through the graph-builder seam:
no patching of module globals, no mocks, no imports of the tests and no
``sys.path`` edits (shared code lives in :mod:`mmvig`)."""
import re

from .helpers import ROOT

FORBIDDEN = {
    r'\bunittest\.mock\b|\bfrom unittest import mock\b': 'unittest.mock',
    r'\bmonkeypatch\b|\bMonkeyPatch\b': 'monkeypatching',
    r'\bsys\.path\b': 'a sys.path edit',
    r'^\s*(from|import) tests\b': 'an import of the tests',
    r'\bmmvig\.models\.layers\.blocks\.knn_graph\b|blocks\.knn_graph\s*=':
        'a patched knn_graph',
}


def test_library_and_tools_have_no_patching_or_test_imports():
    sources = sorted(p for folder in ('mmvig', 'tools')
                     for p in (ROOT / folder).rglob('*.py'))
    assert len(sources) > 40
    found = [f'{path.relative_to(ROOT)}: {what}' for path in sources
             for pattern, what in FORBIDDEN.items()
             if re.search(pattern, path.read_text(), re.MULTILINE)]
    assert not found, found
