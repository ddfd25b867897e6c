"""Robustness suite, cryo-models: checkpoints never execute code, and bad files give one clear error naming the file.
Categories: security, message, permissions."""

import os
import pickle
from pathlib import Path

import pytest
import torch
from cryo_metric.guards import error_text
from cryo_models import create_model, freeze_encoder, init_from_checkpoint, load_checkpoint, safe_load, save_checkpoint


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


def _own_checkpoint(path, arch: str, constructor: dict, state_dict: dict | None = None) -> None:
    "A checkpoint in our format whose metadata says anything (as a hostile or broken file may)."
    torch.save(
        {
            "format": "cryo-models",
            "version": 1,
            "arch": arch,
            "constructor": constructor,
            "classes": [],
            "normalization": "patch",
            "extra": {},
            "state_dict": state_dict if state_dict is not None else {"w": torch.zeros(1)},
        },
        path,
    )


@pytest.mark.parametrize(
    "arch,constructor,msg",
    [
        ("unet_v1", {"channels": [4096, 4096, 4096, 4096]}, "channels=4096 must be an integer from 1 to 1024"),
        ("unet_v1", {"channels": [48, 64, 80, 100000]}, "channels=100000 must be an integer from 1 to 1024"),
        ("unet_v1", {"out_channels": 4096}, "out_channels=4096 must be an integer from 1 to 1024"),
        ("unet_v1", {"in_channels": 10**12}, "in_channels=1000000000000 must be an integer from 1 to 1024"),
        ("unet2e3d", {"decoder_dim": [4096, 80, 64, 32, 16]}, "decoder_dim=4096 must be an integer from 1 to 1024"),
        ("segresnet", {"init_filters": 2048}, "init_filters=2048 must be an integer from 1 to 1024"),
        ("unet_v1", {"channels": [-48, 64, 80, 80]}, "channels=-48 must be an integer from 1 to 1024"),
        ("unet_v1", {"channels": [0, 64, 80, 80]}, "channels=0 must be an integer from 1 to 1024"),
        ("densevnet", {"out_channels": 0}, "out_channels=0 must be an integer from 1 to 1024"),
        ("densevnet", {"out_channels": -7}, "out_channels=-7 must be an integer"),
        ("voxresnet", {"out_channels": 7.5}, "out_channels=7.5 must be an integer"),
        ("voxresnet", {"out_channels": "7"}, "out_channels='7' must be an integer"),
        ("voxhrnet", {"out_channels": True}, "out_channels=True must be an integer"),
        ("unet_v1", {"channels": [48.0, 64, 80, 80]}, "channels=48.0 must be an integer"),
        ("unet_v1", {"channels": "wide"}, "channels='wide' must be a list of integers"),
        ("unet_v1", {"channels": [16] * 1000, "strides": [2] * 999}, "channels has 1000 entries; 1 to 8 are allowed"),
        ("unet_v1", {"channels": []}, "channels has 0 entries"),
        ("unet_v1", {"num_res_units": 10**6}, "num_res_units=1000000 must be an integer from 0 to 8"),
        ("segresnet", {"blocks_down": [1, 2, 2, 10**6]}, "blocks_down=1000000 must be an integer from 1 to 16"),
        ("unet_v1", {"strides": [2, 2, 100]}, "strides=100 must be an integer from 1 to 4"),
        ("unet_v2", {"dropout": float("nan")}, "dropout=nan must be a number from 0 to below 1"),
        ("unet_v1", {"kernel_size": 1001}, "kernel_size=1001 must be odd integers from 1 to 7"),
        ("unet_v1", {"channels": [1024] * 8, "strides": [2] * 7}, "over the limit of 100,000,000 (MAX_PARAMS)"),
        ("unet_v1", {"strides": [2, 2]}, "bad constructor arguments ['strides']"),
        ("unet_v1", {"colour": "red"}, "bad constructor arguments ['colour']"),
        ("resnet152", {}, "unknown architecture 'resnet152'"),
    ],
)
def test_message_absurd_constructor_refused_before_building(tmp_path, arch, constructor, msg):
    p = tmp_path / "m.pt"
    _own_checkpoint(p, arch, constructor)
    with pytest.raises(ValueError) as e:
        load_checkpoint(p)
    assert msg in str(e.value) and str(p) in str(e.value)
    assert "\n" not in str(e.value)


def test_message_constructor_not_a_mapping(tmp_path):
    _own_checkpoint(tmp_path / "m.pt", "unet_v1", [1, 2, 3])
    with pytest.raises(ValueError, match="constructor arguments are not a mapping"):
        load_checkpoint(tmp_path / "m.pt")


def test_control_constructor_within_limits_loads(tmp_path):
    "Neighbour: a small, valid non-default constructor (lists as stored) loads."
    m = create_model("unet_v1", channels=(8, 16, 16, 16))
    _own_checkpoint(tmp_path / "m.pt", "unet_v1", {"channels": [8, 16, 16, 16]}, m.state_dict())
    assert load_checkpoint(tmp_path / "m.pt").cryo_constructor["channels"] == [8, 16, 16, 16]


@pytest.mark.parametrize(
    "kwargs,msg",
    [({"channels": (4096, 4096, 80, 80)}, "MAX_CHANNELS"), ({"channels": (8,) * 9, "strides": (1,) * 8}, "MAX_DEPTH")],
)
def test_message_create_model_checks_before_allocating(kwargs, msg):
    with pytest.raises(ValueError, match=msg):
        create_model("unet_v1", **kwargs)


# ---- init_from_checkpoint (fine-tuning) reads as safely as load_checkpoint ----
def _lightning(path, model, n_cls: int = 7):
    sd = {f"model.{k}": v for k, v in model.state_dict().items()}
    torch.save({"epoch": 1, "state_dict": {**sd, "loss_fn.ce.weight": torch.ones(n_cls)}}, path)


def test_security_init_from_checkpoint_never_runs_code(tmp_path):
    marker = tmp_path / "PWNED"
    torch.save({"state_dict": {"model.w": Evil(marker)}}, tmp_path / "m.ckpt")
    with pytest.raises(ValueError, match="refusing to load checkpoint"):
        init_from_checkpoint(create_model("unet_v1", out_channels=3), tmp_path / "m.ckpt")
    assert not marker.exists()


@pytest.mark.parametrize("content", [b"hello, I am a text file\n", b"", b"PK\x03\x04broken zip"])
def test_message_init_from_garbage(tmp_path, content):
    (tmp_path / "m.ckpt").write_bytes(content)
    with pytest.raises(ValueError, match=r"cannot read checkpoint .*m\.ckpt"):
        init_from_checkpoint(create_model("unet_v1"), tmp_path / "m.ckpt")


@pytest.mark.parametrize("other", ["densevnet", "segresnet", "voxhrnet", "unet_v2"])
def test_message_init_other_architecture_names_both(tmp_path, other):
    _lightning(tmp_path / "m.ckpt", create_model("unet_v1"))
    with pytest.raises(ValueError, match=rf"holds a 'unet_v1' model \(from its tensor names\), not '{other}'"):
        init_from_checkpoint(create_model(other), tmp_path / "m.ckpt")


def test_control_init_seven_classes_into_three(tmp_path):
    _lightning(tmp_path / "m.ckpt", create_model("unet_v1"))
    model = create_model("unet_v1", out_channels=3)
    rep = init_from_checkpoint(model, tmp_path / "m.ckpt")
    assert (len(rep.kept), len(rep.reinitialised), len(rep.unused)) == (31, 4, 4)
    assert all(k.startswith("model.2.") for k in rep.reinitialised)
    assert "kept 31/35" in rep.summary()


def test_message_init_non_finite_weights(tmp_path):
    m = create_model("unet_v1")
    sd = m.state_dict()
    sd["model.0.residual.weight"][0] = float("inf")
    torch.save(sd, tmp_path / "m.pt")
    with pytest.raises(ValueError, match="'model.0.residual.weight' holds NaN or infinite values"):
        init_from_checkpoint(create_model("unet_v1"), tmp_path / "m.pt")


def test_message_freeze_encoder_unknown_or_other_architecture():
    with pytest.raises(KeyError, match="unknown architecture 'resnet'"):
        freeze_encoder(create_model("unet_v1"), "resnet")
    with pytest.raises(ValueError, match="is a 'unet_v1', not 'segresnet'"):
        freeze_encoder(create_model("unet_v1"), "segresnet")


CALLERS = {
    "safe_load": lambda f: safe_load(f),
    "load_checkpoint": lambda f: load_checkpoint(f),
    "init_from_checkpoint": lambda f: init_from_checkpoint(create_model("unet_v1", channels=(8, 16, 16, 16)), f),
}


@pytest.mark.parametrize("caller", sorted(CALLERS))
@pytest.mark.parametrize(
    "content",
    [
        b"hello, I am a text file\n",
        b"e",
        b"example\n",
        b"",
        b"PK\x03\x04junk",
        b"\x80\x02}q\x00.",
        b"{}\n",
        b"\xff" * 100,
    ],
)
def test_message_text_or_junk_as_checkpoint(tmp_path, content, caller):
    "Issue 41: a text file given as a checkpoint said 'error: 101'; every loader names the file and what is wrong."
    (tmp_path / "notes.txt").write_bytes(content)
    with pytest.raises(ValueError) as e:
        CALLERS[caller](tmp_path / "notes.txt")
    assert str(e.value) == f"cannot read checkpoint {tmp_path / 'notes.txt'}: truncated, corrupt or not a PyTorch file"
    assert error_text(e.value) == str(e.value)  # one line as the CLIs print it
