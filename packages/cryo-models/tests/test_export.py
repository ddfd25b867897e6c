import pytest
from cryo_models import create_model
from cryo_models.export import export_onnx, onnx_parity

pytest.importorskip("onnxruntime")


@pytest.mark.parametrize(
    "name,roi",
    [("unet_v1", (32, 64, 64)), ("segresnet", (32, 64, 64)), ("voxhrnet", (16, 32, 32)), ("densevnet", (16, 32, 32))],
)
def test_onnx_parity(tmp_path, name, roi):
    m = create_model(name)
    p = export_onnx(m, roi, tmp_path / f"{name}.onnx")
    assert onnx_parity(m, p, roi) <= 1e-4


def test_export_checks_the_roi(tmp_path):
    with pytest.raises(ValueError, match="divisible"):
        export_onnx(create_model("unet2e3d"), (24, 64, 64), tmp_path / "x.onnx")
