# Sourced by the scripts that compile CohortCore's sources with swiftc directly (the fuzz
# targets, bench/run-codec.sh), without the package manager.
#
# CohortCore imports the C target CohortCRC (CRC-32C with the CPU's instruction), which swiftc
# cannot build from Swift sources alone. `compile_c_modules DIR [CLANG_FLAG...]` compiles it
# with the toolchain's clang into DIR (with the flags given, e.g. a sanitizer to match the
# Swift side), writes a module map for it there, and sets C_MODULE_FLAGS to what swiftc needs
# to compile CohortCore's sources with it: the package name (CohortCore has `package`
# declarations, which need one) and the flags to import and link the C module. Needs `root`,
# the repository's root.
compile_c_modules() {
    local c_out=$1
    shift
    mkdir -p "$c_out"
    clang -O2 -g "$@" -c "$root/Sources/CohortCRC/CohortCRC.c" \
        -I "$root/Sources/CohortCRC/include" -o "$c_out/CohortCRC.o"
    cat >"$c_out/module.modulemap" <<MAP
module CohortCRC {
    header "$root/Sources/CohortCRC/include/CohortCRC.h"
    export *
}
MAP
    C_MODULE_FLAGS=(-package-name Cohort -I "$c_out" "$c_out/CohortCRC.o")
}
