import importlib
import pkgutil

import cryo_infer


def test_every_module_imports():
    names = [m.name for m in pkgutil.walk_packages(cryo_infer.__path__, "cryo_infer.")]
    assert names, "no modules found"
    for n in names:
        importlib.import_module(n)
    assert cryo_infer.__version__.count(".") == 2
