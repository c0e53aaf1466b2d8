#!/usr/bin/env bash
# Builds the export reader and column mapper (src/csvmap.c) outside the
# server, as the fuzz harness does, and replays the committed fuzz corpus
# through it under AddressSanitizer and UBSan (plain build if the compiler
# has no sanitizers).  Fuzzing itself: make -C test/fuzz run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../fuzz"
build=$(mktemp -d /tmp/custfocus-fuzz.XXXXXX)
trap 'rm -rf "$build"' EXIT
flags=(-g -O1 -Wall -Wextra -Wno-unused-parameter -Wmissing-prototypes -Werror
	-DCSVMAP_STANDALONE -I../../src)
san=(-fsanitize=address,undefined -fno-sanitize-recover=undefined)
cc=${CC:-cc}
if ! "$cc" "${flags[@]}" "${san[@]}" -o "$build/replay" fuzz_csvmap.c ../../src/csvmap.c -lcsv 2>/dev/null; then
	echo "import_fuzz_replay: building without sanitizers" >&2
	"$cc" "${flags[@]}" -o "$build/replay" fuzz_csvmap.c ../../src/csvmap.c -lcsv
fi
"$build/replay" corpus/*
