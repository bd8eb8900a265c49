#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# The shim may not end or print into the daemon it runs in: every C file of loader/ and
# preload/ is compiled with -include common/shim_rules.h, which poisons exit, abort, assert,
# stdout and friends. This checks that the rule is applied to both modules' compile
# commands and that each poisoned name really fails to compile under it.
. "$(dirname "$0")/../lib.sh"
CC=${CC:-cc}

for obj in loader/tramp.o loader/lifecycle.o preload/preload.o preload/signal.o; do
  cmd=$(env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -n -W "${obj%.o}.c" BUILD="$BUILD" "$BUILD/obj/$obj" 2>/dev/null)
  t_check "$obj is compiled with -include common/shim_rules.h" \
    grep -qF -- "-include common/shim_rules.h" <<<"$cmd"
done

try() { # try NAME BODY: compile BODY under the rules; pass when the compiler names NAME as poisoned
  printf '#include <stdio.h>\n#include <stdlib.h>\n#include <unistd.h>\nvoid f(void);\nvoid f(void) { %s; }\n' "$2" >"$T_TMP/t.c"
  ! $CC -std=gnu11 -c -include common/shim_rules.h -o "$T_TMP/t.o" "$T_TMP/t.c" 2>"$T_TMP/err" &&
    grep -qF "attempt to use poisoned \"$1\"" "$T_TMP/err"
}
t_check "exit is poisoned" try exit 'exit(1)'
t_check "_exit is poisoned" try _exit '_exit(1)'
t_check "_Exit is poisoned" try _Exit '_Exit(1)'
t_check "quick_exit is poisoned" try quick_exit 'quick_exit(1)'
t_check "abort is poisoned" try abort 'abort()'
t_check "printf is poisoned" try printf 'printf("x")'
t_check "puts is poisoned" try puts 'puts("x")'
t_check "putchar is poisoned" try putchar 'putchar(1)'
t_check "stdout is poisoned (fprintf(stdout, ...))" try stdout 'fprintf(stdout, "x")'
printf '#include <assert.h>\n' >"$T_TMP/a.c"
t_check "including <assert.h> fails" bash -c "! $CC -c -include common/shim_rules.h -o $T_TMP/a.o $T_TMP/a.c 2>/dev/null"
# The control: what the shim does use still compiles.
printf '#include <stdio.h>\n#include <unistd.h>\nint f(char *b, size_t n);\nint f(char *b, size_t n) { snprintf(b, n, "x"); return (int)write(2, b, 1) + fprintf(stderr, "y"); }\n' >"$T_TMP/ok.c"
t_check "snprintf, write(2) and stderr still compile" \
  $CC -std=gnu11 -Wall -Werror -c -include common/shim_rules.h -o "$T_TMP/ok.o" "$T_TMP/ok.c"
t_done
