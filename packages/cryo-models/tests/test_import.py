import importlib
import pkgutil

import cryo_models


def test_every_module_imports():
    names = [m.name for m in pkgutil.walk_packages(cryo_models.__path__, "cryo_models.")]
    assert names, "no modules found"
    for n in names:
        importlib.import_module(n)
    assert cryo_models.__version__.count(".") == 2
