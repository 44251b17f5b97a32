"""``fusesa train``, the ``traincifar224.py`` alias and ``fusesa latency --checkpoint``."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from train_data import write_cifar

from fusesa import cmd_train
from fusesa.cli import build_parser, main
from sw.train import DATASETS, NETWORK_ALIASES, PRESETS

ROOT = Path(__file__).resolve().parents[2]
TINY = ["--width-mult", "0.25", "--resolution", "16", "--batch-size", "32", "--max-steps", "2"]


def test_train_cli_names_match_the_library():
    assert cmd_train.DATASETS == DATASETS
    assert cmd_train.NETWORKS == tuple(NETWORK_ALIASES)
    assert set(cmd_train.PRESETS) == set(PRESETS)


def test_train_cli_is_listed_in_help(capsys):
    build_parser().print_help()
    assert "train" in capsys.readouterr().out


def test_train_cli_bad_data_dir_names_the_file(tmp_path, capsys):
    argv = ["train", "-D", "CIFAR10", "-N", "MobileNetV2", "-n", "r", "-v", "full"]
    rc = main([*argv, "--data-dir", str(tmp_path), "--runs-dir", str(tmp_path / "runs")])
    assert rc == 2
    err = capsys.readouterr().err
    assert "data_batch_1" in err and "not found" in err
    assert not (tmp_path / "runs" / "r" / "last.pt").exists()


def test_traincifar224_alias_trains_and_resumes_cifar(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("tc224", ROOT / "scripts" / "traincifar224.py")
    tc224 = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tc224)
    write_cifar(tmp_path / "cifar", "CIFAR100", per_file=6)
    argv = ["-D", "CIFAR100", "-N", "MnasNet", "-n", "alias", "-v", "50half"]
    argv += ["--data-dir", str(tmp_path / "cifar"), "--runs-dir", str(tmp_path / "runs")]
    argv += [*TINY, "--no-progress"]
    assert tc224.main([*argv, "--epochs", "1", "--preset", "cpu"]) == 0
    assert tc224.main([*argv, "--epochs", "2", "--preset", "cpu", "--resume"]) == 0
    out = capsys.readouterr().out
    assert "resuming" in out and "after 2 epochs" in out
    assert (tmp_path / "runs" / "alias" / "metrics.csv").read_text().count("\n") == 3


def test_latency_cli_accepts_a_checkpoint(tmp_path, capsys):
    argv = ["train", "-D", "DIGITS", "-N", "MobileNetV3S", "-n", "lat", "-v", "full"]
    assert main([*argv, "--runs-dir", str(tmp_path), *TINY, "--epochs", "1", "--no-progress"]) == 0
    ckpt = tmp_path / "lat" / "last.pt"
    assert main(["latency", "--checkpoint", str(ckpt), "--mode", "rtl", "--array", "16x16"]) == 0
    out = capsys.readouterr().out
    assert "mobilenet_v3_small x0.25 at 16x16" in out and "16x16 FuSe (rtl mode)" in out


def test_latency_cli_needs_net_or_checkpoint(capsys):
    assert main(["latency"]) == 2
    assert "--net" in capsys.readouterr().err


@pytest.mark.parametrize("flag", ["-D", "-N", "-n", "-v"])
def test_train_cli_requires_the_original_flags(flag):
    argv = {"-D": "DIGITS", "-N": "MobileNetV2", "-n": "x", "-v": "full"}
    argv.pop(flag)
    with pytest.raises(SystemExit):
        build_parser().parse_args(["train", *[t for kv in argv.items() for t in kv]])
