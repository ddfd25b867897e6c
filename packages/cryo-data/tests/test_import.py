import importlib
import pkgutil

import cryo_data


def test_every_module_imports():
    names = [m.name for m in pkgutil.walk_packages(cryo_data.__path__, "cryo_data.")]
    assert names, "no modules found"
    for n in names:
        importlib.import_module(n)
    assert cryo_data.__version__.count(".") == 2
