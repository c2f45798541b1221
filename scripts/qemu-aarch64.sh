#!/usr/bin/env bash
# Runs an aarch64 binary under qemu-user with SVE at ASSAY_SVE_BITS (default 256: Graviton3-like;
# 128: Graviton4/Grace-like). Used as CMAKE_CROSSCOMPILING_EMULATOR by the aarch64 toolchain.
#
# The loader and libc come from the multiarch libc6:arm64 (/lib/ld-linux-aarch64.so.1, pulled in
# by the arm64 -dev packages) rather than `-L /usr/aarch64-linux-gnu`: Debian 12's older cross
# glibc (libc6-arm64-cross 2.36-8) spins forever in pthread_create under qemu 7.2, while
# libc6:arm64 (2.36-9+deb12u*) works. -L stays as the fallback when the multiarch loader is absent.
bits=${ASSAY_SVE_BITS:-256}
sysroot=()
[ -e /lib/ld-linux-aarch64.so.1 ] || sysroot=(-L /usr/aarch64-linux-gnu)
exec qemu-aarch64 "${sysroot[@]}" \
  -cpu "max,sve${bits}=on,sve-default-vector-length=$((bits / 8))" "$@"
