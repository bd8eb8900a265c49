#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# test_build.sh - `hotswap build` end to end: real compiles of the fixture plugins in
# tests/build/plugins, inside a git repository made here (git CLI in the test only; the tool
# reads it with libgit2). Checks the version note (independently, with note.py), the live
# table (dlopened by live_dump), filters, errors and their exact messages, the atomic
# output under a reader loop, and --static-linking linked into a host that runs the
# lifecycle.
. "$(dirname "$0")/../lib.sh"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
case $BUILD in /*) B=$BUILD ;; *) B=$ROOT/$BUILD ;; esac
HS=$B/hotswap
FIX=$ROOT/tests/build/plugins
NOTE="python3 $ROOT/tests/build/note.py"
export LC_ALL=C
export TMPDIR="$T_TMP/tmp" # the tool's work folders, so that leftovers can be seen
mkdir -p "$TMPDIR"

REPO=$T_TMP/repo
git_() { git -C "$REPO" -c user.name=test -c user.email=test@example.com "$@"; }
mkdir -p "$REPO/plugins" "$REPO/docs"
cp -r "$FIX/hello" "$FIX/alpha" "$FIX/beta" "$REPO/plugins/"
echo "notes" >"$REPO/docs/README"
git_ init -q -b main
git_ add . && git_ commit -q -m "plugins"
OUT=$T_TMP/out

# note_field FILE KEY: the value of KEY in FILE's version note.
note_field() { $NOTE "$1" | sed -n "s/^$2=//p"; }
# expect_eq NAME GOT WANT
expect_eq() {
  if [ "$2" = "$3" ]; then t_ok "$1"; else t_fail "$1" "got '$2', wanted '$3'"; fi
}
# expect_grep NAME FILE FIXED-STRING / expect_no_grep NAME FILE FIXED-STRING
expect_grep() {
  if grep -qF -- "$3" "$2"; then t_ok "$1"; else t_fail "$1" "'$3' not in: $(cat "$2")"; fi
}
expect_no_grep() {
  if grep -qF -- "$3" "$2"; then t_fail "$1" "'$3' found in: $(cat "$2")"; else t_ok "$1"; fi
}

# --- version stamp -----------------------------------------------------------------------
start=$(date +%s)
t_expect_rc "build of a clean plugin succeeds" 0 "$HS" build "$REPO/plugins/hello" "$OUT" \
  >"$T_TMP/o"
so=$OUT/hello.so
head=$(git_ rev-parse HEAD)
expect_eq "clean: commit is git rev-parse HEAD" "$(note_field "$so" commit)" "$head"
expect_eq "clean: dirty=0" "$(note_field "$so" dirty)" 0
expect_eq "clean: branch" "$(note_field "$so" branch)" main
expect_eq "clean: name is the folder's" "$(note_field "$so" name)" hello
expect_eq "clean: abi" "$(note_field "$so" abi)" 1
expect_eq "clean: commit_time is the commit's" "$(note_field "$so" commit_time)" \
  "$(git_ log -1 --format=%ct)"
bt=$(note_field "$so" build_time)
t_check "clean: build_time is now" test "$bt" -ge "$start" -a "$bt" -le "$(date +%s)"
"$HS" inspect --json "$so" >"$T_TMP/inspect.json" 2>&1
expect_grep "hotswap inspect reads the same commit" "$T_TMP/inspect.json" "\"commit\": \"$head\""
SOURCE_DATE_EPOCH=1234567890 "$HS" build "$REPO/plugins/hello" "$OUT" >/dev/null
expect_eq "SOURCE_DATE_EPOCH sets build_time" "$(note_field "$so" build_time)" 1234567890

echo "/* edit */" >>"$REPO/plugins/hello/util.c"
"$HS" build "$REPO/plugins/hello" "$OUT" >/dev/null
expect_eq "modified tracked file: dirty=1" "$(note_field "$so" dirty)" 1
expect_eq "dirty build keeps the commit" "$(note_field "$so" commit)" "$head"
git_ add plugins/hello/util.c
"$HS" build "$REPO/plugins/hello" "$OUT" >/dev/null
expect_eq "staged change: dirty=1" "$(note_field "$so" dirty)" 1
git_ reset -q --hard
mkdir -p "$REPO/plugins/hello/sub"
echo x >"$REPO/plugins/hello/sub/untracked.txt"
"$HS" build "$REPO/plugins/hello" "$OUT" >/dev/null
expect_eq "untracked file under the plugin: dirty=1" "$(note_field "$so" dirty)" 1
rm -r "$REPO/plugins/hello/sub"
echo x >"$REPO/docs/untracked.txt"
echo x >>"$REPO/plugins/alpha/alpha.c"
mkdir -p "$REPO/plugins/hello2" && echo x >"$REPO/plugins/hello2/f.c"
"$HS" build "$REPO/plugins/hello" "$OUT" >/dev/null
expect_eq "changes outside the plugin (hello2, alpha, docs): dirty=0" \
  "$(note_field "$so" dirty)" 0
git_ checkout -q -- plugins/alpha && rm -r "$REPO/docs/untracked.txt" "$REPO/plugins/hello2"

git_ checkout -q -b feature/fast
"$HS" build "$REPO/plugins/hello" "$OUT" >/dev/null
expect_eq "branch name" "$(note_field "$so" branch)" feature/fast
git_ checkout -q --detach
"$HS" build "$REPO/plugins/hello" "$OUT" >/dev/null
expect_eq "detached HEAD: branch HEAD" "$(note_field "$so" branch)" HEAD
expect_eq "detached HEAD: commit" "$(note_field "$so" commit)" "$head"
git_ checkout -q main

# A plugin at the root of its repository (the status is not limited to a folder).
ROOTREPO=$T_TMP/rootplug
mkdir -p "$ROOTREPO" && cp "$FIX/hello/"*.c "$ROOTREPO/"
git -C "$ROOTREPO" init -q -b trunk && git -C "$ROOTREPO" add . &&
  git -C "$ROOTREPO" -c user.name=t -c user.email=t@e commit -q -m r
"$HS" build "$ROOTREPO" "$OUT" >/dev/null
expect_eq "plugin at the repository root: commit" "$(note_field "$OUT/rootplug.so" commit)" \
  "$(git -C "$ROOTREPO" rev-parse HEAD)"
expect_eq "plugin at the repository root: clean" "$(note_field "$OUT/rootplug.so" dirty)" 0
echo x >"$ROOTREPO/new.txt"
"$HS" build "$ROOTREPO" "$OUT" >/dev/null
expect_eq "plugin at the repository root: untracked makes it dirty" \
  "$(note_field "$OUT/rootplug.so" dirty)" 1

PLAIN=$T_TMP/plain/hello
mkdir -p "$PLAIN" && cp "$FIX/hello/"*.c "$PLAIN/"
"$HS" build "$PLAIN" "$T_TMP/plainout" >"$T_TMP/o" 2>"$T_TMP/e"
t_expect_rc "not a repository: still builds" 0 test -f "$T_TMP/plainout/hello.so"
expect_eq "not a repository: one warning line" "$(cat "$T_TMP/e")" \
  "hotswap build: warning: $(cd "$PLAIN" && pwd -P) is not in a git repository; stamping commit \"unversioned\""
expect_eq "not a repository: commit unversioned" \
  "$(note_field "$T_TMP/plainout/hello.so" commit)" unversioned
expect_eq "not a repository: no branch" "$(note_field "$T_TMP/plainout/hello.so" branch)" ""

EMPTY=$T_TMP/empty
mkdir -p "$EMPTY/hello" && cp "$FIX/hello/"*.c "$EMPTY/hello/" && git -C "$EMPTY" init -q
"$HS" build "$EMPTY/hello" "$T_TMP/emptyout" >"$T_TMP/o" 2>"$T_TMP/e"
expect_eq "repository without commits: warning" "$(cat "$T_TMP/e")" \
  "hotswap build: warning: the git repository of $(cd "$EMPTY/hello" && pwd -P) has no commits yet; stamping commit \"unversioned\""
expect_eq "repository without commits: commit unversioned" \
  "$(note_field "$T_TMP/emptyout/hello.so" commit)" unversioned

# --- live table, filters, flags ----------------------------------------------------------
"$HS" build "$REPO/plugins/hello" "$OUT" >"$T_TMP/o"
expect_eq "summary line" "$(cat "$T_TMP/o")" \
  "hotswap build: wrote $(cd "$OUT" && pwd -P)/hello.so (commit $(echo "$head" | cut -c1-12), branch main; 3 live functions, 1 live variable, 1 live type)"
"$B/tests/build/live_dump" "$so" >"$T_TMP/live" 2>&1
expect_eq "live table lists functions, variables and types, sorted" "$(cat "$T_TMP/live")" \
  "func LIVE_Twice
func live_add
call live_add(2, 3) = 5
func live_debug_dump
var live_counter 4 = 3
type live_order 16 8 627f2a8776dfc4ec
prefix live_"
"$HS" build --exclude '^debug' "$REPO/plugins/hello" "$OUT" >/dev/null
"$B/tests/build/live_dump" "$so" >"$T_TMP/live" 2>&1
expect_no_grep "--exclude leaves the file out" "$T_TMP/live" live_debug_dump
expect_grep "--exclude keeps the rest" "$T_TMP/live" "func LIVE_Twice"
"$HS" build --include '^(hello|util)\.c$' "$REPO/plugins/hello" "$OUT" >/dev/null
"$B/tests/build/live_dump" "$so" >"$T_TMP/live" 2>&1
expect_eq "--include keeps only matching files" "$(grep -c '^func' "$T_TMP/live")" 2
"$HS" build --include 'x' --exclude '.' "$REPO/plugins/hello" "$OUT" 2>"$T_TMP/e"
expect_eq "--include/--exclude matching nothing exits 1" $? 1
expect_eq "no source left: message" "$(cat "$T_TMP/e")" \
  "hotswap build: no C source in $(cd "$REPO/plugins/hello" && pwd -P) matches --include/--exclude"
"$HS" build --prefix-live live_t "$REPO/plugins/hello" "$OUT" >/dev/null
"$B/tests/build/live_dump" "$so" >"$T_TMP/live" 2>&1
expect_eq "--prefix-live, case-insensitive" "$(grep '^func\|^prefix' "$T_TMP/live")" \
  "func LIVE_Twice
prefix live_t"

"$HS" build -v --debug "$REPO/plugins/hello" "$OUT" -- -DFROM_USER=1 -Wall >/dev/null \
  2>"$T_TMP/e"
expect_grep "-v shows the compile command with --debug flags" "$T_TMP/e" "-c -fPIC -O0 -g3 -I"
expect_grep "-v shows the user's flags" "$T_TMP/e" "-DFROM_USER=1 -Wall"
expect_grep "-v shows the link" "$T_TMP/e" "-shared -fPIC -O0 -g3 -o"
t_check "no work folder is left behind" test -z "$(ls -A "$TMPDIR")"
t_check "no temporary file is left in OUTPUT_DIR" test -z "$(ls -A "$OUT" | grep -v '\.so$')"

"$HS" build --leave-temps "$REPO/plugins/hello" "$OUT" >/dev/null 2>"$T_TMP/e"
kept=$(sed -n 's/^hotswap build: temporary files kept in //p' "$T_TMP/e")
t_check "--leave-temps says where" test -n "$kept" -a -d "$kept"
t_check "--leave-temps keeps the generated sources" \
  test -f "$kept/gen/hotswap_note.c" -a -f "$kept/gen/hotswap_live_table.c"
rm -rf "$kept"
rm -f "$OUT/hello.so"
"$HS" build --no-compile "$REPO/plugins/hello" "$OUT" >"$T_TMP/o" 2>"$T_TMP/e"
t_expect_rc "--no-compile writes no plugin" 1 test -e "$OUT/hello.so"
expect_grep "--no-compile prints the compile commands" "$T_TMP/o" "/plugins/hello/hello.c -o "
kept=$(sed -n 's/^hotswap build: temporary files kept in //p' "$T_TMP/e")
t_check "--no-compile keeps the generated note" test -f "$kept/gen/hotswap_note.c"
rm -rf "$kept"

# --- errors ------------------------------------------------------------------------------
"$HS" build "$FIX/broken" "$T_TMP/bout" >/dev/null 2>"$T_TMP/e"
expect_eq "compile error exits 1" $? 1
expect_grep "compile error shows the compiler's output" "$T_TMP/e" "undeclared_thing"
expect_grep "compile error shows the compiler's error line" "$T_TMP/e" "broken.c:3:"
t_check "compile error leaves no output" test -z "$(ls -A "$T_TMP/bout")"
"$HS" build "$FIX/dup" "$T_TMP/dout" >/dev/null 2>"$T_TMP/e"
expect_eq "duplicate live names exit 1" $? 1
expect_eq "duplicate live names: message names both files" "$(grep -v warning "$T_TMP/e")" \
  "hotswap build: duplicate live name: 'LIVE_count' (b.c) and 'live_Count' (a.c) are the same name case-insensitively"
"$HS" build "$FIX/dupt" "$T_TMP/dout" >/dev/null 2>"$T_TMP/e"
expect_eq "one live type, two layouts: exit 1" $? 1
expect_eq "one live type, two layouts: message names both files" \
  "$(grep -v warning "$T_TMP/e")" \
  "hotswap build: duplicate live type: 'live_item' (a.c) and 'live_item' (b.c) have different layouts"
CC=/nonexistent/cc "$HS" build "$REPO/plugins/hello" "$OUT" 2>"$T_TMP/e"
expect_eq "missing compiler exits 2" $? 2
expect_grep "missing compiler: message" "$T_TMP/e" \
  "hotswap build: cannot run '/nonexistent/cc': No such file or directory"

t_expect_rc "unknown flag exits 2" 2 "$HS" build --bogus "$REPO/plugins/hello" "$OUT" \
  2>"$T_TMP/e"
expect_eq "unknown flag: message then usage" "$(head -n 3 "$T_TMP/e")" \
  "hotswap build: unknown option '--bogus'

usage: hotswap build [flags] PLUGIN_DIR OUTPUT_DIR [-- CFLAGS...]"
t_expect_rc "missing OUTPUT_DIR exits 2" 2 "$HS" build "$REPO/plugins/hello" 2>"$T_TMP/e"
expect_grep "missing OUTPUT_DIR: message" "$T_TMP/e" \
  "hotswap build: expected PLUGIN_DIR and OUTPUT_DIR"
t_expect_rc "bad regex exits 2" 2 "$HS" build --include '(' "$REPO/plugins/hello" "$OUT" \
  2>"$T_TMP/e"
expect_grep "bad regex: message" "$T_TMP/e" "hotswap build: --include '(': "
t_expect_rc "flag without its value exits 2" 2 "$HS" build "$REPO/plugins/hello" "$OUT" \
  --prefix-live 2>"$T_TMP/e"
expect_grep "flag without its value: message" "$T_TMP/e" \
  "hotswap build: option '--prefix-live' needs a value"
t_expect_rc "missing plugin folder exits 2" 2 "$HS" build "$T_TMP/nope" "$OUT" 2>"$T_TMP/e"
expect_eq "missing plugin folder: message" "$(cat "$T_TMP/e")" \
  "hotswap build: $T_TMP/nope: No such file or directory"
t_expect_rc "--help exits 0" 0 "$HS" build --help >"$T_TMP/o"
expect_grep "--help prints the usage on stdout" "$T_TMP/o" "--static-linking"

# --- atomic output -----------------------------------------------------------------------
"$HS" build "$REPO/plugins/hello" "$OUT" >/dev/null
t_expect_rc "elf_whole accepts a whole plugin" 0 "$B/tests/build/elf_whole" "$so" >/dev/null
head -c "$(($(stat -c %s "$so") / 2))" "$so" >"$T_TMP/half.so"
t_expect_rc "elf_whole rejects a half-written plugin (the check can fail)" 1 \
  "$B/tests/build/elf_whole" "$T_TMP/half.so" >/dev/null
"$B/tests/build/elf_whole" "$so" "$T_TMP/stop" >"$T_TMP/reader" 2>&1 &
reader=$!
t_reap "$reader"
i=0
while [ $i -lt 15 ]; do
  "$HS" build "$REPO/plugins/hello" "$OUT" >/dev/null || break
  i=$((i + 1))
done
touch "$T_TMP/stop"
wait "$reader"
rrc=$?
expect_eq "15 builds while a reader opens the plugin in a loop" $i 15
t_check "the reader never saw a partial plugin ($(cat "$T_TMP/reader"))" test $rrc -eq 0
t_check "the reader opened it many times" \
  test "$(sed -n 's/^opens \([0-9]*\).*/\1/p' "$T_TMP/reader")" -gt 15

# --- static linking ----------------------------------------------------------------------
SOUT=$T_TMP/static
"$HS" build --static-linking "$REPO/plugins/alpha" "$SOUT" >/dev/null &&
  "$HS" build --static-linking "$REPO/plugins/beta" "$SOUT" >/dev/null
t_expect_rc "--static-linking writes lib<name>.a" 0 test -f "$SOUT/libalpha.a" -a -f "$SOUT/libbeta.a"
t_expect_rc "--static-linking writes no .so" 1 test -e "$SOUT/alpha.so"
nm "$SOUT/libalpha.a" >"$T_TMP/nm"
expect_grep "hooks are renamed per plugin" "$T_TMP/nm" "T alpha__hotswap_on_load"
expect_no_grep "no plain hotswap_on_load is left" "$T_TMP/nm" " hotswap_on_load"
expect_grep "the registration record" "$T_TMP/nm" "D hotswap_static_plugin_alpha"
CCB=${CC:-cc}
# A sanitizer build (SANITIZE=...) made libhotswap_static.a instrumented: link hosts alike.
HOSTSAN=""
nm "$B/libhotswap_static.a" | grep -q __asan_ && HOSTSAN="$HOSTSAN -fsanitize=address"
nm "$B/libhotswap_static.a" | grep -q __ubsan_ && HOSTSAN="$HOSTSAN -fsanitize=undefined"
nm "$B/libhotswap_static.a" | grep -q __tsan_ && HOSTSAN="$HOSTSAN -fsanitize=thread"
CCB="$CCB $HOSTSAN"
EXPECTED="alpha: export
alpha: import
beta: reloadable
beta: export
beta: import
beta: on_load data-from-host
alpha: on_load data-from-host, beta gave 'beta's export'
beta: on_init vault=null
alpha: on_init
order: beta alpha
alpha: invoke greet
invoke: 0 hello, world
beta: invoke ping
alpha: invoke ping
invoke_each: 0
invoke missing: HOTSWAP_ENOPLUGIN
live: 42
alpha: on_free
beta: on_free"
$CCB -I"$ROOT/include" -o "$T_TMP/host" "$ROOT/tests/build/static_host_main.c" \
  "$SOUT/libalpha.a" "$SOUT/libbeta.a" "$B/libhotswap_static.a"
t_expect_rc "a host links both static plugins" 0 test -x "$T_TMP/host"
expect_eq "the host runs the lifecycle in dependency order" "$("$T_TMP/host" 2>&1)" "$EXPECTED"
$CCB -I"$ROOT/include" -DONLY_ALPHA -o "$T_TMP/host1" "$ROOT/tests/build/static_host_main.c" \
  "$SOUT/libalpha.a" "$B/libhotswap_static.a"
"$T_TMP/host1" >"$T_TMP/o" 2>&1
expect_eq "a missing import fails the start" $? 1
expect_grep "a missing import: message" "$T_TMP/o" \
  "start failed: static plugin 'alpha' imports 'beta', which is not linked in (HOTSWAP_ENOPLUGIN)"
expect_grep "a failed start frees what was loaded" "$T_TMP/o" "alpha: on_free"

SAN=$T_TMP/static-asan
"$HS" build --static-linking "$REPO/plugins/alpha" "$SAN" -- -fsanitize=address,undefined \
  >/dev/null && "$HS" build --static-linking "$REPO/plugins/beta" "$SAN" -- \
  -fsanitize=address,undefined >/dev/null
# The runner is compiled from source here: $B/libhotswap_static.a may carry another sanitizer.
${CC:-cc} -fsanitize=address,undefined -I"$ROOT/include" -o "$T_TMP/hostsan" \
  "$ROOT/tests/build/static_host_main.c" "$SAN/libalpha.a" "$SAN/libbeta.a" \
  "$ROOT/tools/static/static_host.c" "$ROOT/common/errors.c"
expect_eq "static plugins under AddressSanitizer: same lifecycle" \
  "$(ASAN_OPTIONS=detect_leaks=0 "$T_TMP/hostsan" 2>&1)" "$EXPECTED"

t_done
