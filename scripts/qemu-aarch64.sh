#!/usr/bin/env bash
# Runs an aarch64 binary under qemu-user with SVE at ASSAY_SVE_BITS (default 256: Graviton3-like;
# 128: Graviton4/Grace-like). Used as CMAKE_CROSSCOMPILING_EMULATOR by the aarch64 toolchain.
bits=${ASSAY_SVE_BITS:-256}
exec qemu-aarch64 -L /usr/aarch64-linux-gnu \
  -cpu "max,sve${bits}=on,sve-default-vector-length=$((bits / 8))" "$@"
