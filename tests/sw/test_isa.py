"""hw.isa: encode/decode round trips, field layout, and validation errors naming the field."""

import numpy as np
import pytest

from hw import isa
from hw.config import ArrayConfig
from sw.mapping.accel import compile_gemms


def test_isa_fields_tile_the_word():
    bits = []
    for lo, w in isa.FIELDS.values():
        bits.extend(range(lo, lo + w))
    assert sorted(bits) == list(range(isa.WORD_BITS))


def test_isa_roundtrip_and_layout():
    cmd = isa.Gemm(m=300, kfolds=5, nfolds=7, a_addr=11, w_addr=13, acc_addr=17)
    word = isa.encode(cmd)
    assert word == 1 | 300 << 8 | 5 << 24 | 7 << 36 | 11 << 48 | 13 << 68 | 17 << 88
    assert isa.decode(word) == cmd
    assert isa.encode(isa.Halt()) == 0 and isa.decode(0) == isa.Halt()


@pytest.mark.parametrize(
    "kwargs, field",
    [
        (dict(m=0), "m"),
        (dict(m=1 << 16), "m"),
        (dict(kfolds=0), "kfolds"),
        (dict(nfolds=4096), "nfolds"),
        (dict(a_addr=-1), "a_addr"),
        (dict(acc_addr=1 << 20), "acc_addr"),
        (dict(w_addr=1.5), "w_addr"),
    ],
)
def test_isa_encode_rejects_bad_fields(kwargs, field):
    with pytest.raises(ValueError, match=rf"Gemm\.{field}"):
        isa.encode(isa.Gemm(**kwargs))


def test_isa_decode_rejects_unknown_opcode_and_reserved_bits():
    with pytest.raises(ValueError, match="unknown opcode op=9"):
        isa.decode(9)
    with pytest.raises(ValueError, match="reserved"):
        isa.decode(1 | 1 << 8 | 1 << 24 | 1 << 36 | 1 << 120)
    with pytest.raises(ValueError, match="HALT must have m=0"):
        isa.decode(1 << 8)


def test_isa_range_check_names_the_depth():
    cfg = ArrayConfig(rows=2, cols=2, act_depth=16)
    with pytest.raises(ValueError, match=r"a_addr=10 \+ 8 words .*act_depth=16"):
        isa.encode(isa.Gemm(m=4, kfolds=2, a_addr=10), cfg)
    with pytest.raises(ValueError, match="must end with a Halt"):
        isa.encode_program([isa.Gemm()], cfg)


def test_compiler_rejects_too_big_gemm_and_out_of_range_values():
    cfg = ArrayConfig(rows=2, cols=2, acc_depth=8)
    with pytest.raises(ValueError, match=r"GEMM 0 .*acc_depth=8"):
        compile_gemms([(np.ones((9, 2)), np.ones((2, 2)))], cfg)
    with pytest.raises(ValueError, match="W holds values"):
        compile_gemms([(np.ones((2, 2)), np.full((2, 2), 128))], cfg)


def test_config_rejects_bad_depth():
    with pytest.raises(ValueError, match="ArrayConfig.cmd_depth"):
        ArrayConfig(rows=2, cols=2, cmd_depth=0)
