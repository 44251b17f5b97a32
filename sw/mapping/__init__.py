"""Mapping of layers onto the array: tiles, folds and cycle-level tile programs."""

from sw.mapping.gemm import GemmProgram, assemble_gemm_output, gemm_program

__all__ = ["GemmProgram", "gemm_program", "assemble_gemm_output"]
