"""Robustness suite, cryo-models: checkpoints never execute code, and bad files give one clear error naming the file.
Categories: security, message, permissions."""

import os
import pickle
from pathlib import Path

import pytest
import torch
from cryo_models import create_model, load_checkpoint, safe_load, save_checkpoint


class Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


class EvilExec:
    def __reduce__(self):
        return (exec, ("open('PWNED_EXEC', 'w').write('x')",))


@pytest.mark.parametrize("where", ["top", "state_dict value", "metadata", "list"])
def test_security_pickled_callable_never_runs(tmp_path, where):
    marker = tmp_path / "PWNED"
    obj = {
        "top": Evil(marker),
        "state_dict value": {"state_dict": {"model.w": Evil(marker)}},
        "metadata": {"format": "cryo-models", "arch": "unet_v1", "extra": {"x": Evil(marker)}, "state_dict": {}},
        "list": [torch.ones(1), Evil(marker)],
    }[where]
    torch.save(obj, tmp_path / "m.pt")
    with pytest.raises(ValueError, match=r"refusing to load checkpoint .*m\.pt: it needs .*system"):
        load_checkpoint(tmp_path / "m.pt")
    assert not marker.exists()


def test_security_exec_never_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    torch.save({"x": EvilExec()}, tmp_path / "m.pt")
    with pytest.raises(ValueError, match="refusing to load checkpoint"):
        safe_load(tmp_path / "m.pt")
    assert not (tmp_path / "PWNED_EXEC").exists()


def test_security_raw_pickle_never_runs(tmp_path):
    (tmp_path / "m.pt").write_bytes(pickle.dumps({"state_dict": Evil(tmp_path / "PWNED")}))
    with pytest.raises(ValueError, match="checkpoint"):
        load_checkpoint(tmp_path / "m.pt")
    assert not (tmp_path / "PWNED").exists()


def test_security_arbitrary_class_refused(tmp_path):
    torch.save({"state_dict": {}, "path": Path("/x")}, tmp_path / "m.pt")
    with pytest.raises(ValueError, match="PosixPath"):
        safe_load(tmp_path / "m.pt")


@pytest.mark.parametrize("content", [b"", b"\x00" * 64, b"PK\x03\x04broken zip", "truncated"])
def test_message_truncated_or_garbage(tmp_path, content):
    p = tmp_path / "m.pt"
    if content == "truncated":
        save_checkpoint(create_model("unet_v1", channels=(8, 16, 16, 16)), p)
        p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])
    else:
        p.write_bytes(content)
    with pytest.raises(ValueError, match=r"cannot read checkpoint .*m\.pt: truncated, corrupt or not a PyTorch file"):
        load_checkpoint(p)


class MyDict(dict):
    pass


def test_security_dict_subclass_refused(tmp_path):
    torch.save({"state_dict": {}, "h": MyDict(a=1)}, tmp_path / "m.pt")
    with pytest.raises(ValueError, match="refusing to load checkpoint"):
        safe_load(tmp_path / "m.pt")


def test_message_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such checkpoint"):
        load_checkpoint(tmp_path / "nope.pt")


def test_message_directory(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such checkpoint"):
        load_checkpoint(tmp_path)


@pytest.mark.parametrize(
    "obj,msg", [([1, 2], "not a recognised checkpoint"), ({"state_dict": {"net.w": torch.ones(1)}}, "without 'model.'")]
)
def test_message_not_a_checkpoint(tmp_path, obj, msg):
    torch.save(obj, tmp_path / "m.pt")
    with pytest.raises(ValueError, match=msg):
        load_checkpoint(tmp_path / "m.pt")


def test_lightning_checkpoint_loads(tmp_path):
    "Control: what Lightning stores (hyper_parameters as a dict, loops, optimizer states, callback states) is allowed."
    m = create_model("unet_v1", channels=(8, 16, 16, 16))
    torch.save(
        {
            "epoch": 3,
            "global_step": 30,
            "pytorch-lightning_version": "2.5.0",
            "hyper_parameters": {"lr": 1e-3},
            "callbacks": {
                "ModelCheckpoint{'monitor': 'val_metric'}": {"best_model_score": torch.tensor(0.8), "dirpath": "/out"}
            },
            "loops": {"fit_loop": {"state_dict": {}}},
            "optimizer_states": [{"state": {}, "param_groups": [{"lr": 1e-3}]}],
            "state_dict": {f"model.{k}": v for k, v in m.state_dict().items()},
        },
        tmp_path / "l.ckpt",
    )
    assert (
        load_checkpoint(tmp_path / "l.ckpt", name="unet_v1", channels=(8, 16, 16, 16)).cryo_info.source_format
        == "lightning"
    )


def test_dataloss_save_checkpoint_never_replaces(tmp_path):
    (tmp_path / "m.pt").write_bytes(b"precious")
    with pytest.raises(FileExistsError):
        save_checkpoint(create_model("unet_v1", channels=(8, 16, 16, 16)), tmp_path / "m.pt")
    assert (tmp_path / "m.pt").read_bytes() == b"precious"


def test_permissions_checkpoint_follows_umask(tmp_path):
    old = os.umask(0o022)
    try:
        save_checkpoint(create_model("unet_v1", channels=(8, 16, 16, 16)), tmp_path / "m.pt")
    finally:
        os.umask(old)
    assert (tmp_path / "m.pt").stat().st_mode & 0o777 == 0o644
