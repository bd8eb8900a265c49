# SPDX-License-Identifier: BSD-3-Clause
# bench/: benchmarks run by `make bench` (bench/run.sh collects their "@key value" lines).
BENCH_DIR := $(BUILD)/bench

# --- bench_inspect: elf_inspect_fd on a generated plugin with 10,000 exported functions.
BENCH_MANY10K := $(BENCH_DIR)/many10k.so
BENCH_INSPECT := $(BENCH_DIR)/bench_inspect
BENCH_INSPECT_OBJ := $(BUILD)/obj/bench/bench_inspect.o
$(BENCH_INSPECT_OBJ): EXTRA_CFLAGS += $(ELF_CFLAGS) -DBENCH_MANY10K='"$(BENCH_MANY10K)"'

$(BENCH_DIR)/many10k.c: bench/gen_many.sh | $(DEPS_OK)
	@mkdir -p $(@D)
	$(call msg,GEN,$@)
	$(Q)bench/gen_many.sh 10000 >$@.tmp && mv $@.tmp $@

$(BENCH_MANY10K): $(BENCH_DIR)/many10k.c | $(DEPS_OK)
	$(call msg,CC,$@)
	$(Q)$(CC) -O0 -shared -fPIC -Wl,-z,noexecstack -o $@ $<

$(BENCH_INSPECT): $(BENCH_INSPECT_OBJ) $(ELF_LIB) $(BENCH_MANY10K) | $(DEPS_OK)
	$(call msg,LD,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(BENCH_INSPECT_OBJ) $(ELF_LIB) $(ELF_LIBS)

BENCHES += $(BENCH_INSPECT)

# --- bench_call: ns per call direct / through the PLT / through a trampoline, and the time
# to build and commit a generation (h-tramp). The callee is a real shared library.
BENCH_CALLEE := $(BENCH_DIR)/libbench_callee.so
BENCH_CALL := $(BENCH_DIR)/bench_call

$(BENCH_CALLEE): bench/bench_callee.c | $(DEPS_OK)
	@mkdir -p $(@D)
	$(call msg,CCLD,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -shared -o $@ $< $(ALL_LDFLAGS)

$(BENCH_CALL): $(BUILD)/obj/bench/bench_call.o $(BENCH_CALLEE) $(LOADER_LIB) $(ELF_LIB) \
               | $(DEPS_OK)
	@mkdir -p $(@D)
	$(call msg,LD,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $< -L$(BENCH_DIR) -lbench_callee -Wl,-rpath,'$$ORIGIN' \
	  $(LOADER_LINK)

BENCHES += $(BENCH_CALL)

# --- bench_shim.sh: reload latency, the legacy server under wrk with and without reloads,
# restart time. Two builds of a generated 10-function plugin (-O0 and -O1: same symbols,
# different bytes).
BENCH_RELOAD := $(BENCH_DIR)/bench_reload
BENCH_MANY10 := $(BENCH_DIR)/many10-a.so $(BENCH_DIR)/many10-b.so
$(BENCH_DIR)/many10.c: bench/gen_many.sh | $(DEPS_OK)
	@mkdir -p $(@D)
	$(Q)bench/gen_many.sh 10 >$@.tmp && mv $@.tmp $@
$(BENCH_DIR)/many10-a.so: $(BENCH_DIR)/many10.c
	$(Q)$(CC) -O0 -shared -fPIC -Wl,-z,noexecstack -o $@ $<
$(BENCH_DIR)/many10-b.so: $(BENCH_DIR)/many10.c
	$(Q)$(CC) -O1 -shared -fPIC -Wl,-z,noexecstack -o $@ $<
$(BENCH_RELOAD): $(BUILD)/obj/bench/bench_reload.o | $(DEPS_OK)
	$(call msg,LD,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $<
bench: $(BENCH_RELOAD) $(BENCH_MANY10)
BENCHES += bench/bench_shim.sh

# --- bench_rss.sh (h-retire): RSS growth over 10,000 reloads of the 10-symbol plugin, with
# retirement and without (HOTSWAP_RETIRE=0).
bench: $(BENCH_RELOAD) $(BENCH_MANY10)
BENCHES += bench/bench_rss.sh

# --- bench_api (h-api): ns per hotswap_live_fn / hotswap_invoke / hotswap_invoke_each
# (3 plugins) with the per-thread lookup cache and without it, over the tests/api fixtures
# (built as TEST_DEPS, which `make bench` needs; API_FIX is defined by tests/api/module.mk,
# included later: the target-specific flag is expanded only when the object is built).
BENCH_API := $(BENCH_DIR)/bench_api
$(BUILD)/obj/bench/bench_api.o: EXTRA_CFLAGS += -DAPI_FIXTURE_DIR='"$(abspath $(API_FIX))"'
$(BENCH_API): $(BUILD)/obj/bench/bench_api.o $(LOADER_LIB) $(ELF_LIB) | $(DEPS_OK)
	@mkdir -p $(@D)
	$(call msg,LD,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $< $(LOADER_LINK)

BENCHES += $(BENCH_API)

# --- bench_threads.sh (h-threads): reload and retirement latency of the legacy server with
# 8 and with 256 threads (the stack check signals every thread), side by side in one run.
BENCH_THREADS := $(BENCH_DIR)/bench_threads
$(BENCH_THREADS): $(BUILD)/obj/bench/bench_threads.o | $(DEPS_OK)
	@mkdir -p $(@D)
	$(call msg,LD,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $<
bench: $(BENCH_THREADS)
BENCHES += bench/bench_threads.sh

# --- rss_host (h-vault): the sleeping daemon of bench_rss.sh; --extension registers a
# trivial extension constructor so that every reload also builds a vault and an extension.
BENCH_RSS_HOST := $(BENCH_DIR)/rss_host
$(BENCH_RSS_HOST): $(BUILD)/obj/bench/rss_host.o | $(DEPS_OK)
	@mkdir -p $(@D)
	$(call msg,LD,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $<
bench: $(BENCH_RSS_HOST)

# --- bench_state: the cost of carrying state (issue 11), through the loader in one process.
BENCH_STATE := $(BENCH_DIR)/bench_state
BENCH_STATE_SOS := $(foreach k,0 1024 16384,$(foreach b,a b,$(BENCH_DIR)/state$(k)-$(b).so))
$(BENCH_DIR)/state%.so: bench/bench_state_plugin.c | $(DEPS_OK)
	@mkdir -p $(@D)
	$(Q)$(CC) -O2 -shared -fPIC -Wl,-z,noexecstack \
	  -DSTATE_KIB=$(firstword $(subst -, ,$*)) \
	  -DBENCH_BUILD=$(if $(filter %-b,$*),2,1) -o $@ $<
$(BENCH_STATE): $(BUILD)/obj/bench/bench_state.o $(LOADER_LIB) $(ELF_LIB) $(BENCH_STATE_SOS) \
                | $(DEPS_OK)
	$(call msg,LD,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(BUILD)/obj/bench/bench_state.o $(LOADER_LINK)
$(BUILD)/obj/bench/bench_state.o: EXTRA_CFLAGS += $(ELF_CFLAGS)
bench: $(BENCH_STATE)
BENCHES += bench/bench_state.sh

# --- bench_scan.sh (issue 12): retirement's scan throughput with 64 MiB and 1 GiB of heap.
BENCH_SCAN_HOST := $(BUILD)/bench/scan_host
$(BENCH_SCAN_HOST): bench/scan_host.c | $(DEPS_OK)
	@mkdir -p $(@D)
	$(call msg,LD,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) $< -o $@
bench: $(BENCH_SCAN_HOST) $(BENCH_MANY10)
BENCHES += bench/bench_scan.sh
