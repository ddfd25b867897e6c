import importlib
import pkgutil

import cryo_metric


def test_every_module_imports():
    names = [m.name for m in pkgutil.walk_packages(cryo_metric.__path__, "cryo_metric.")]
    assert "cryo_metric.score" in names
    for n in names:
        importlib.import_module(n)


def test_no_torch_dependency():
    import sys

    import cryo_metric.cli  # noqa: F401

    assert "torch" not in sys.modules
