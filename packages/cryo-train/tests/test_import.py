import importlib
import pkgutil

import cryo_train


def test_every_module_imports():
    names = [m.name for m in pkgutil.walk_packages(cryo_train.__path__, "cryo_train.")]
    assert names, "no modules found"
    for n in names:
        importlib.import_module(n)
    assert cryo_train.__version__.count(".") == 2
