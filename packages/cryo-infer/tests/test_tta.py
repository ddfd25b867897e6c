import pytest
import torch
from cryo_infer.tta import get_tta, tta_predict


@pytest.mark.parametrize("name", ["identity", "rot90_1", "rot90_2", "rot90_3", "flip_z", "flip_y", "flip_x"])
def test_inverse_round_trip(name):
    x = torch.randn(1, 2, 6, 10, 10)
    t = get_tta([name])[0]
    assert torch.equal(t.inverse(t.forward(x)), x)


def test_conv_model_tta_differs_from_plain_but_matches_manual_average():
    torch.manual_seed(0)
    conv = torch.nn.Conv3d(1, 2, 3, padding=1)
    x = torch.randn(1, 1, 8, 12, 12)
    with torch.no_grad():
        y = tta_predict(conv, x)
        manual = sum(t.inverse(conv(t.forward(x))) for t in get_tta("2nd-place")) / 7
    assert torch.allclose(y, manual)
    assert not torch.allclose(y, conv(x).detach())
