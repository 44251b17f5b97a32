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


# -- malformed programs: the compiler side rejects them with a ValueError naming the culprit ---


def test_encode_program_rejects_non_commands_and_mismatched_opcodes():
    with pytest.raises(ValueError, match=r"command 1: not a command record: 7"):
        isa.encode_program([isa.Gemm(), 7, isa.Halt()])
    with pytest.raises(ValueError, match=r"command 0: Gemm\.op=.* does not match the record"):
        isa.encode_program([isa.Gemm(op=isa.Op.FUSE), isa.Halt()])
    with pytest.raises(ValueError, match="unknown opcode op=15"):
        isa.decode(isa.encode(isa.Gemm()) | 0xF)


@pytest.mark.parametrize(
    "cmd, message",
    [
        (
            isa.Gemm(m=2, kfolds=2, nfolds=3, w_addr=5),
            r"Gemm\.w_addr=5 \+ 12 words .*weight_depth=16",
        ),
        (isa.Gemm(m=9, nfolds=2, acc_addr=1), r"Gemm\.acc_addr=1 \+ 18 words .*acc_depth=16"),
        # FUSE extents: groups*(pfolds*cols + k - 1) / groups*k / groups*pfolds*rows words
        (
            isa.Fuse(k=3, groups=2, pfolds=3, a_addr=49),
            r"Fuse\.a_addr=49 \+ 16 words .*act_depth=64",
        ),
        (isa.Fuse(k=5, groups=3, w_addr=2), r"Fuse\.w_addr=2 \+ 15 words .*weight_depth=16"),
        (isa.Fuse(k=2, groups=3, pfolds=3), r"Fuse\.acc_addr=0 \+ 18 words .*acc_depth=16"),
        (isa.Fuse(k=8), r"Fuse\.k=8 exceeds ArrayConfig\.max_kernel=7"),
        (isa.Fuse(k=0), r"Fuse\.k=0 is out of range"),
    ],
)
def test_out_of_range_addresses_name_field_and_depth(cmd, message):
    cfg = ArrayConfig(rows=2, cols=2, act_depth=64, weight_depth=16, acc_depth=16)
    with pytest.raises(ValueError, match=message):
        isa.encode_program([isa.Gemm(), cmd, isa.Halt()], cfg)


def test_fuse_on_array_without_fuse_mode_is_rejected():
    cfg = ArrayConfig(rows=2, cols=2, fuse=False)
    with pytest.raises(ValueError, match=r"Fuse: array .* has no FuSe mode"):
        isa.encode(isa.Fuse(k=3), cfg)


def test_program_overflowing_a_buffer_is_rejected():
    cfg = ArrayConfig(rows=2, cols=2, cmd_depth=4)
    with pytest.raises(ValueError, match=r"5 commands does not fit ArrayConfig\.cmd_depth=4"):
        isa.encode_program([isa.Gemm()] * 4 + [isa.Halt()], cfg)
    # operands that overflow the weight buffer: the compiler names the job and the depth
    small = ArrayConfig(rows=2, cols=2, weight_depth=8)
    x, w = np.ones((2, 4), dtype=np.int64), np.ones((4, 4), dtype=np.int64)  # 2x2 tiles x 2 rows
    compile_gemms([(x, w)], small)  # 8 weight words: fits exactly
    with pytest.raises(ValueError, match=r"GEMM 1 .*w_addr=8 \+ 8 words .*weight_depth=8"):
        compile_gemms([(x, w), (x, w)], small)


def test_retarget_checks_every_command_against_the_new_depths():
    cfg = ArrayConfig(rows=2, cols=2)
    x, w = np.ones((5, 3), dtype=np.int64), np.ones((3, 2), dtype=np.int64)
    prog = compile_gemms([(x, w), (x, w)], cfg)
    assert prog.needs == {"act_depth": 20, "weight_depth": 8, "acc_depth": 10, "cmd_depth": 3}
    same = prog.retarget(ArrayConfig(rows=2, cols=2, act_depth=20, weight_depth=8, acc_depth=10))
    assert same.words == prog.words
    with pytest.raises(ValueError, match=r"command 1: Gemm\.a_addr=10 \+ 10 words .*act_depth=19"):
        prog.retarget(ArrayConfig(rows=2, cols=2, act_depth=19))
    with pytest.raises(ValueError, match=r"not ArrayConfig\.rows \(2 -> 3\)"):
        prog.retarget(ArrayConfig(rows=3, cols=2))


def test_fit_memories_grows_to_powers_of_two_up_to_the_isa_limit():
    from sw.mapping.accel import MAX_DEPTH, fit_memories, unbounded

    cfg = ArrayConfig(rows=2, cols=2, act_depth=16, weight_depth=64)
    x, w = np.ones((9, 4), dtype=np.int64), np.ones((4, 2), dtype=np.int64)
    prog = compile_gemms([(x, w)], unbounded(cfg))  # 18 activation words, 4 weight words
    fitted = fit_memories(cfg, [prog])
    assert (fitted.act_depth, fitted.weight_depth) == (32, 64)  # grown / kept
    assert (fitted.acc_depth, fitted.cmd_depth) == (cfg.acc_depth, cfg.cmd_depth)
    assert fit_memories(fitted, [prog]) is fitted
    huge = compile_gemms([(x, w)], unbounded(cfg))
    huge.act_words = MAX_DEPTH + 1
    with pytest.raises(ValueError, match=r"1048577 words of act_depth; hw\.isa addresses at most"):
        fit_memories(cfg, [huge])
