# Shared by the fuzz/ scripts. Source it after setting `root` and `out`.
#
# CohortCore imports the C target CohortCRC (CRC-32C with the CPU's instruction), which swiftc
# cannot build from Swift sources alone: compile_c_modules compiles it with the toolchain's
# clang into "$out/c" and writes a module map for it, and sets C_MODULE_FLAGS to what swiftc
# needs to import and link it.
compile_c_modules() {
    local c_out="$out/c"
    mkdir -p "$c_out"
    clang -O2 -g -fsanitize=address -c "$root/Sources/CohortCRC/CohortCRC.c" \
        -I "$root/Sources/CohortCRC/include" -o "$c_out/CohortCRC.o"
    cat >"$c_out/module.modulemap" <<MAP
module CohortCRC {
    header "$root/Sources/CohortCRC/include/CohortCRC.h"
    export *
}
MAP
    C_MODULE_FLAGS=(-I "$c_out" "$c_out/CohortCRC.o")
}
