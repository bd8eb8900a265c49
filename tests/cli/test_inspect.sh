#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# test_inspect.sh - `hotswap inspect` on the real fixture plugins (tests/fixtures/, built by
# the Makefile) and on tests/cli/flags_plugin.c: text and JSON output, flags with their
# explanations, and the exact messages of every user error.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/cli_lib.sh"

# --- a normal plugin, as text ---------------------------------------------------------
hs inspect "$FX/normal.so"
expect_line "inspect normal: format line" "format:     ELF64 x86-64 DYN"
expect_line "inspect normal: soname" "soname:     libfixture.so"
expect_line "inspect normal: version note" \
  "version:    fixture, commit 0123456789abcdef0123456789abcdef01234567 (dirty), branch main, abi 1"
expect_line "inspect normal: note times in ISO-8601 UTC" \
  "            committed 2023-11-14T22:13:20Z, built 2023-11-14T22:15:00Z"
expect_line "inspect normal: hooks" "hooks:      hotswap_reloadable, hotswap_export, hotswap_on_load, hotswap_on_init, hotswap_on_free, hotswap_invoke_func"
expect_line "inspect normal: export count with live count" "exports:    11 (2 live, marked *)"
expect_line "inspect normal: live function is marked" \
  "  * FUNC     GLOBAL DEFAULT         17  -            live_add_order"
expect_line "inspect normal: live function, other case" \
  "  * FUNC     GLOBAL DEFAULT          7  -            Live_Tick"
expect_line "inspect normal: variable export" \
  "    OBJECT   GLOBAL DEFAULT          4  -            exported_counter"
expect_line "inspect normal: plain function" \
  "    FUNC     GLOBAL DEFAULT         10  -            handle_stats"
expect_line "inspect normal: live types count" "live types: 2"
t_check "inspect normal: live type with size, fields and fingerprint" \
  grep -qE '^  live_order: size 16, align 8, fingerprint [0-9a-f]{16}, fields id, amount$' "$OUT"
expect_line "inspect normal: undefined count points at -v" "undefined:  4 (-v lists them)"
expect_line "inspect normal: no blocking flags" \
  "flags:      none (nothing blocks swapping or unloading)"
t_check "inspect normal: build-id is 40 hex digits" \
  grep -qE '^build-id:   [0-9a-f]{40}$' "$OUT"
expect_no_match "inspect normal: undefined symbols not listed without -v" "__cxa_finalize"

hs inspect -v "$FX/normal.so"
expect_line "inspect -v lists undefined symbols" \
  "    OTHER    WEAK   DEFAULT          0  -            __cxa_finalize"
expect_line "inspect -v: count without the hint" "undefined:  4"
hs inspect --verbose "$FX/normal.so"
expect_line "inspect --verbose lists undefined symbols too" \
  "    OTHER    WEAK   DEFAULT          0  -            __cxa_finalize"

hs inspect "$FX/textrel.so"
expect_line "inspect: no note is said plainly" "version:    no hotswap version note"

# --- class and machine --------------------------------------------------------------------
hs inspect "$FX/m32.so"
expect_line "inspect m32: 32-bit i386" "format:     ELF32 i386 DYN"
hs inspect "$FX/aarch64.so"
expect_line "inspect aarch64: foreign machine" "format:     ELF64 AArch64 DYN"

# --- symbol versions ------------------------------------------------------------------------
hs inspect "$FX/versioned.so"
expect_line "inspect versioned: default version" \
  "    FUNC     GLOBAL DEFAULT          4  V2           handle_request"
expect_line "inspect versioned: kept old version is marked hidden" \
  "    FUNC     GLOBAL DEFAULT          3  V1 (hidden)  handle_request"

# --- flags that block loading, swapping or unloading, each with its explanation -------------
EXECSTACK="  execstack   it asks for an executable stack, which would make every thread stack of the daemon executable; hotswap refuses it (link with -z noexecstack)"
TEXTREL="  textrel     it has text relocations: the dynamic linker would have to write into its code; hotswap refuses it (compile every object with -fPIC)"
NODELETE="  nodelete    it is marked NODELETE: dlclose never unmaps it, so every replaced version stays in memory (link without -z nodelete)"
UNIQUE="  gnu_unique  it exports a GNU_UNIQUE symbol: glibc pins the object, so replaced versions are never unloaded (compile with -fno-gnu-unique)"
TLS="  tls         it uses thread-local storage: values do not carry over to a new version, and a replaced version's TLS stays allocated in every thread that used it"
hs inspect "$FX/execstack.so"
expect_line "inspect execstack: flag listed" "flags:      execstack"
expect_line "inspect execstack: explained" "$EXECSTACK"
hs inspect "$FX/textrel.so"
expect_line "inspect textrel: flag listed" "flags:      textrel"
expect_line "inspect textrel: explained" "$TEXTREL"
hs inspect "$FX/nodelete.so"
expect_line "inspect nodelete: flag listed" "flags:      nodelete"
expect_line "inspect nodelete: explained" "$NODELETE"
hs inspect "$FX/unique.so"
expect_line "inspect unique: explained" "$UNIQUE"
hs inspect "$FX/tls.so"
expect_line "inspect tls: explained" "$TLS"
hs inspect "$CLI/flags.so"
expect_line "inspect flags.so: both flags listed" "flags:      gnu_unique, tls"
expect_line "inspect flags.so: unique explained" "$UNIQUE"
expect_line "inspect flags.so: tls explained" "$TLS"
expect_line "inspect flags.so: TLS export type" \
  "    TLS      GLOBAL DEFAULT          4  -            flags_tls_counter"
expect_line "inspect flags.so: unique binding" \
  "    OBJECT   UNIQUE DEFAULT          4  -            flags_unique"
t_check "inspect text: control characters in a symbol name are escaped" \
  grep -qF 'odd"name\x\x09q\x1b[31m' "$OUT"
t_check "inspect text: no raw escape character reaches the terminal" \
  sh -c "! LC_ALL=C grep -q \"\$(printf '\\033')\" '$OUT'"

# --- JSON ------------------------------------------------------------------------------------
hs inspect --json "$FX/normal.so"
t_check "inspect --json normal: valid JSON (json.tool)" python3 -m json.tool "$OUT" /dev/null
py "inspect --json normal: keys and header" "
keys = {'file', 'file_size', 'class', 'machine', 'type', 'build_id', 'content_hash',
        'short_version', 'soname', 'needed', 'version_note', 'hooks', 'n_live', 'exports',
        'live_types', 'n_undefined', 'undefined', 'flags'}
assert keys <= set(d), keys - set(d)
assert d['file'] == '$FX/normal.so', d['file']
assert (d['class'], d['machine'], d['type']) == (64, 'x86-64', 'DYN'), d
assert d['soname'] == 'libfixture.so' and d['needed'] == []
assert len(d['build_id']) == 40 and len(d['content_hash']) == 16
assert d['short_version'] == '0123456-dirty', d['short_version']
assert d['flags'] == []
"
py "inspect --json normal: exports with live marks" "
ex = {e['name']: e for e in d['exports']}
for name in ('handle_request', 'handle_stats', 'live_add_order', 'Live_Tick',
             'exported_counter', 'hotswap_on_load'):
    assert name in ex, name
assert [e['name'] for e in d['exports']] == sorted(ex), 'not sorted by name'
assert ex['handle_stats']['type'] == 'FUNC' and not ex['handle_stats']['live']
assert ex['live_add_order']['live'] and ex['Live_Tick']['live'] and d['n_live'] == 2
assert ex['exported_counter']['type'] == 'OBJECT' and ex['exported_counter']['size'] == 4
e = ex['handle_request']
assert (e['bind'], e['visibility'], e['version'], e['default_version']) == \
    ('GLOBAL', 'DEFAULT', None, True), e
"
py "inspect --json normal: version note, hooks, live types, undefined" "
n = d['version_note']
assert n == {'abi': 1, 'name': 'fixture', 'commit': '0123456789abcdef0123456789abcdef01234567',
             'branch': 'main', 'dirty': True, 'commit_time': '2023-11-14T22:13:20Z',
             'build_time': '2023-11-14T22:15:00Z', 'commit_time_unix': 1700000000,
             'build_time_unix': 1700000100}, n
assert d['hooks'] == ['hotswap_reloadable', 'hotswap_export', 'hotswap_on_load',
                      'hotswap_on_init', 'hotswap_on_free', 'hotswap_invoke_func'], d['hooks']
lt = {t['name']: t for t in d['live_types']}
assert lt['live_order']['size'] == 16 and lt['live_order']['fields'] == 'id, amount'
assert len(lt['live_order']['fingerprint']) == 16
assert d['n_undefined'] == len(d['undefined']) == 4
assert '__cxa_finalize' in [u['name'] for u in d['undefined']]
"
hs inspect --json "$FX/livetype2.so"
py "inspect --json livetype2: changed layout, other fingerprint" "
lt = {t['name']: t for t in d['live_types']}
assert lt['live_order']['size'] == 24 and lt['live_order']['fields'] == 'id, amount, note'
assert lt['live_order']['fingerprint'] != '627f2a8776dfc4ec'
"
hs inspect --json "$FX/textrel.so"
py "inspect --json: missing note is null, flag with explanation" "
assert d['version_note'] is None
assert d['flags'] == [{'name': 'textrel', 'blocks': 'load', 'explanation':
    'it has text relocations: the dynamic linker would have to write into its code; '
    'hotswap refuses it (compile every object with -fPIC)'}], d['flags']
"
hs inspect --json "$FX/execstack.so"
py "inspect --json execstack: blocks load" "
assert [(f['name'], f['blocks']) for f in d['flags']] == [('execstack', 'load')], d['flags']
"
hs inspect --json "$FX/nodelete.so"
py "inspect --json nodelete: blocks unload" "
assert [(f['name'], f['blocks']) for f in d['flags']] == [('nodelete', 'unload')], d['flags']
"
hs inspect --json "$CLI/flags.so"
py "inspect --json: odd symbol name escaped and decoded exactly" "
names = [e['name'] for e in d['exports']]
assert 'odd\"name\\\\x\tq\x1b[31m\ufffd' in names, names
assert [f['name'] for f in d['flags']] == ['gnu_unique', 'tls'], d['flags']
"
hs inspect --json "$FX/m32.so"
py "inspect --json m32: class 32, i386" "assert (d['class'], d['machine']) == (32, 'i386'), d"
hs inspect --json "$FX/versioned.so"
py "inspect --json versioned: versions and default_version" "
v = [(e['name'], e['version'], e['default_version']) for e in d['exports']]
assert ('handle_request', 'V2', True) in v and ('handle_request', 'V1', False) in v, v
"
all_ok=1
for f in "$FX"/*.so "$CLI/flags.so"; do
  case $f in */truncated.so) continue ;; esac
  "$HS" inspect --json -v "$f" >"$T_TMP/j" 2>"$T_TMP/e" &&
    python3 -m json.tool "$T_TMP/j" >/dev/null 2>&1 || { all_ok=0; echo "bad JSON for $f"; }
done
t_check "inspect --json: valid JSON for every fixture plugin" [ "$all_ok" = 1 ]

# --- user errors: exit 2, nothing on stdout, one message naming the file and the reason -----
hs inspect "$FX/garbage.bin"
expect "inspect garbage: not ELF" 2 "" \
  "hotswap inspect: $FX/garbage.bin: not an ELF file (bad magic)"
hs inspect "$FX/empty.bin"
expect "inspect empty file" 2 "" "hotswap inspect: $FX/empty.bin: not an ELF file: file is empty"
hs inspect "$FX/truncated.so"
expect "inspect truncated file" 2 "" \
  "hotswap inspect: $FX/truncated.so: malformed ELF file: section header table at offset $(python3 -c "import sys; from struct import unpack; print(unpack('<Q', open(sys.argv[1], 'rb').read()[40:48])[0])" "$FX/truncated.so") is past the end of the file (4096 bytes)"
hs inspect "$FX"
expect "inspect a directory" 2 "" "hotswap inspect: $FX: is a directory, not a plugin file"
hs inspect "$T_TMP/missing.so"
expect "inspect a missing file" 2 "" \
  "hotswap inspect: $T_TMP/missing.so: cannot open: No such file or directory"
hs inspect --json "$T_TMP/missing.so"
expect "inspect --json a missing file: message on stderr, no JSON" 2 "" \
  "hotswap inspect: $T_TMP/missing.so: cannot open: No such file or directory"
if [ "$(id -u)" != 0 ]; then
  cp "$FX/normal.so" "$T_TMP/secret.so" && chmod 000 "$T_TMP/secret.so"
  hs inspect "$T_TMP/secret.so"
  expect "inspect an unreadable file" 2 "" \
    "hotswap inspect: $T_TMP/secret.so: cannot open: Permission denied"
fi

# --- usage -----------------------------------------------------------------------------------
hs inspect --help
expect_help "inspect --help: usage on stdout, exit 0" inspect
hs inspect -h
expect_help "inspect -h: usage on stdout, exit 0" inspect
hs inspect --bogus "$FX/normal.so"
expect_usage_error "inspect --bogus: usage error" inspect "hotswap inspect: unknown option '--bogus'"
hs inspect -x "$FX/normal.so"
expect_usage_error "inspect -x: usage error" inspect "hotswap inspect: unknown option '-x'"
hs inspect --json=yes "$FX/normal.so"
expect_usage_error "inspect --json=yes: usage error" inspect \
  "hotswap inspect: unexpected argument in option '--json=yes'"
hs inspect
expect_usage_error "inspect without a file" inspect "hotswap inspect: expected one plugin file, got 0"
hs inspect "$FX/normal.so" "$FX/dropped.so"
expect_usage_error "inspect with two files" inspect "hotswap inspect: expected one plugin file, got 2"
hs inspect "$FX/normal.so" --json
py "inspect: options may follow the file" "assert d['soname'] == 'libfixture.so'"

# --- writable state (what a reload carries over) --------------------------------------
ST="$BUILD/tests/shim/state"
hs inspect "$FX/normal.so"
expect_line "inspect: state count and table" "state:      2 objects from .symtab"
expect_line "inspect: a static with its source file" \
  "    .bss         LOCAL        16  last_order               plugin.c"
hs inspect "$FX/tls.so"
expect_line "inspect: thread-local state is marked not carried" \
  "    .tdata       GLOBAL        4  tls_counter              -  (thread-local: not carried)"
hs inspect --json "$FX/normal.so"
py "inspect --json: state" "
s = {o['name']: o for o in d['state']}
assert d['state_symtab'] == '.symtab', d['state_symtab']
assert s['last_order'] == {'name': 'last_order', 'file': 'plugin.c', 'section': '.bss',
  'bind': 'LOCAL', 'size': 16, 'exported': False, 'carried': True}, s['last_order']
assert s['exported_counter']['exported'] is True and s['exported_counter']['file'] is None
"
hs inspect --host "$ST/state_host_nopie" "$ST/v1/libstate.so"
expect_line "inspect --host: the copy-relocated variable is marked" \
  "    .data        GLOBAL        4  state_limit              -  (copy-relocated by the host)"
expect_line "inspect --host: the count" \
  "host:       $ST/state_host_nopie copy-relocates 1 of its exported variables"
hs inspect --json --host "$ST/state_host_pie" "$ST/v1/libstate.so"
py "inspect --json --host: copy_relocated per object" "
s = {o['name']: o for o in d['state']}
assert s['state_limit']['copy_relocated'] is True and s['counter']['copy_relocated'] is False, s
assert d['host'] == '$ST/state_host_pie'
"
hs inspect "$ST/v1/libstate.so" --host
expect_usage_error "inspect --host without a value" inspect \
  "hotswap inspect: option '--host' requires a value"

t_done
