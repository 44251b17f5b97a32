import json

import pytest

from hw.config import PRESETS, ArrayConfig


def test_config_defaults_and_derived():
    cfg = ArrayConfig(rows=3, cols=5)
    assert (cfg.act_width, cfg.weight_width, cfg.acc_width, cfg.max_kernel) == (8, 8, 32, 7)
    assert cfg.pes == 15
    assert cfg.latency == 3 + 5 - 1
    assert cfg.max_product == 128 * 128


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"rows": 0, "cols": 4}, "rows"),
        ({"rows": 4, "cols": -1}, "cols"),
        ({"rows": 2.5, "cols": 4}, "rows"),
        ({"rows": True, "cols": 4}, "rows"),
        ({"rows": 4, "cols": 4, "act_width": 1}, "act_width"),
        ({"rows": 4, "cols": 4, "weight_width": 40}, "weight_width"),
        ({"rows": 4, "cols": 4, "max_kernel": 0}, "max_kernel"),
        ({"rows": 4, "cols": 4, "acc_width": 80}, "acc_width"),
    ],
)
def test_config_rejects_bad_field(kwargs, field):
    with pytest.raises(ValueError, match=field):
        ArrayConfig(**kwargs)


def test_config_rejects_narrow_accumulator():
    # 4 products of (-128)*(-128) = 65536 needs 18 signed bits; 16 cannot hold it.
    with pytest.raises(ValueError, match="acc_width=16 is too narrow"):
        ArrayConfig(rows=4, cols=4, acc_width=16)
    assert ArrayConfig(rows=4, cols=4, acc_width=18, max_kernel=4).acc_width == 18
    with pytest.raises(ValueError, match="acc_width=17"):
        ArrayConfig(rows=4, cols=4, acc_width=17, max_kernel=4)


def test_config_accumulator_bound_is_tight():
    # Independent check: the worst reduction must fit in acc_width signed bits.
    for rows in (1, 2, 3, 7, 8, 64, 100):
        cfg = ArrayConfig(rows=rows, cols=1, max_kernel=1, acc_width=64)
        worst = rows * 128 * 128
        w = cfg.min_acc_width
        assert worst <= (1 << (w - 1)) - 1
        assert worst > (1 << (w - 2)) - 1  # one bit fewer would overflow


def test_config_json_roundtrip(tmp_path):
    cfg = ArrayConfig(rows=3, cols=5, acc_width=24)
    p = tmp_path / "config.json"
    cfg.to_json(p)
    assert ArrayConfig.from_json(p) == cfg
    assert json.loads(p.read_text())["rows"] == 3


def test_config_json_errors_name_the_problem(tmp_path):
    p = tmp_path / "bad.json"
    p.write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        ArrayConfig.from_json(p)
    p.write_text(json.dumps({"rows": 2, "cols": 2, "colour": 3}))
    with pytest.raises(ValueError, match="colour"):
        ArrayConfig.from_json(p)
    p.write_text(json.dumps({"rows": 2}))
    with pytest.raises(ValueError, match="cols"):
        ArrayConfig.from_json(p)


def test_config_presets():
    assert ArrayConfig.preset("paper") == ArrayConfig(rows=64, cols=64)
    assert set(PRESETS) >= {"tiny", "small", "paper"}
    with pytest.raises(ValueError, match="'huge'"):
        ArrayConfig.preset("huge")


def test_config_psum_width_per_row():
    # GEMM: row r sums r+1 products of at most 2^14; FuSe: max_kernel products, also when
    # draining; widths never exceed acc_width and never shrink going down.
    cfg = ArrayConfig(rows=8, cols=2, max_kernel=7)
    widths = [cfg.psum_width(r) for r in range(8)]
    for r, w in enumerate(widths):
        worst = max(r + 1, 7) * 128 * 128
        assert worst <= (1 << (w - 1)) - 1 < 2 * worst
    assert widths == sorted(widths)
    ws = ArrayConfig(rows=8, cols=2, fuse=False)
    assert ws.psum_width(0) == 16  # one product: [-16256, 16384] needs 16 bits
    assert ArrayConfig(rows=64, cols=1, max_kernel=1).psum_width(63) == 22  # 2^20 + sign
    with pytest.raises(ValueError, match="row must be in 0..7"):
        cfg.psum_width(8)
