# Cross-compile for aarch64 (Graviton, Grace) with Debian's crossbuild-essential-arm64 and the
# arm64 multiarch -dev packages; tests run under qemu-user through scripts/qemu-aarch64.sh, whose
# SVE vector length comes from ASSAY_SVE_BITS (128 or 256) at test time.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
# Debian multiarch: arm64 libraries live in /usr/lib/aarch64-linux-gnu (found through
# CMAKE_LIBRARY_ARCHITECTURE), headers in /usr/include; no sysroot is involved.
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
set(CMAKE_IGNORE_PATH /usr/lib/x86_64-linux-gnu /lib/x86_64-linux-gnu)
set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")
set(CMAKE_CROSSCOMPILING_EMULATOR "${CMAKE_CURRENT_LIST_DIR}/../../scripts/qemu-aarch64.sh")
# No CUDA in the cross build (nvcc here targets x86-64 hosts).
set(ASSAY_CUDA OFF CACHE STRING "" FORCE)
