# SPDX-License-Identifier: BSD-3-Clause
# tests/fuzz/: the libFuzzer target for elf/ (`make fuzz`) and its bounded CI run
# (`make fuzz-smoke`, about a minute; writes "1 0" or "0 1" to $(BUILD)/fuzz-counts).
# elf/*.c and common/*.c are compiled again with clang and the fuzzer's sanitizers, in
# their own folder.
FUZZ_DIR := $(BUILD)/fuzz
FUZZ_CC := clang
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS := -std=gnu11 -g -O1 -fno-omit-frame-pointer $(FUZZ_SAN) -Iinclude -I.
FUZZ_BIN := $(FUZZ_DIR)/fuzz_elf
FUZZ_LIB_SRCS := $(wildcard elf/*.c) common/errors.c
FUZZ_LIB_OBJS := $(patsubst %.c,$(FUZZ_DIR)/obj/%.o,$(FUZZ_LIB_SRCS))
FUZZ_OBJS := $(FUZZ_LIB_OBJS) $(FUZZ_DIR)/obj/fuzz_elf.o $(FUZZ_DIR)/obj/fuzz_ref.o
# The fixed, parsed reference the fuzzer compares every input with, and the seeds.
FUZZ_REF := $(BUILD)/fixtures/normal.so
FUZZ_FIXTURES := $(filter $(BUILD)/fixtures/% $(BUILD)/cli/%,$(TEST_DEPS))
FUZZ_SEED_STAMP := $(FUZZ_DIR)/seed.stamp
FUZZ_SMOKE_SECS ?= 60

# Library code gets coverage instrumentation; the target itself links libFuzzer's main.
$(FUZZ_DIR)/obj/%.o: %.c | $(DEPS_OK)
	@mkdir -p $(@D)
	$(call msg,FUZZCC,$<)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $(ELF_CFLAGS) -MMD -MP \
	  -c $< -o $@

$(FUZZ_DIR)/obj/fuzz_elf.o: tests/fuzz/fuzz_elf.c | $(DEPS_OK)
	@mkdir -p $(@D)
	$(call msg,FUZZCC,$<)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $(ELF_CFLAGS) -MMD -MP \
	  -c $< -o $@

$(FUZZ_DIR)/obj/fuzz_ref.o: tests/fuzz/fuzz_ref.S $(FUZZ_REF) | $(DEPS_OK)
	@mkdir -p $(@D)
	$(call msg,FUZZAS,$<)
	$(Q)$(FUZZ_CC) -DFUZZ_REF_PATH='"$(abspath $(FUZZ_REF))"' -c $< -o $@

$(FUZZ_BIN): $(FUZZ_OBJS) | $(DEPS_OK)
	$(call msg,FUZZLD,$@)
	$(Q)$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $(FUZZ_OBJS) $(ELF_LIBS)

# Seeds: every fixture plus small hand-made ELF headers (tests/fuzz/mkseeds.py).
$(FUZZ_SEED_STAMP): $(FUZZ_FIXTURES) tests/fuzz/mkseeds.py | $(DEPS_OK)
	$(call msg,SEED,$(FUZZ_DIR)/seed)
	$(Q)rm -rf $(FUZZ_DIR)/seed && mkdir -p $(FUZZ_DIR)/seed
	$(Q)$(if $(FUZZ_FIXTURES),cp $(FUZZ_FIXTURES) $(FUZZ_DIR)/seed/ &&) \
	  python3 tests/fuzz/mkseeds.py $(FUZZ_DIR)/seed && touch $@

fuzz: $(FUZZ_BIN) $(FUZZ_SEED_STAMP)
	@echo "fuzz: run $(FUZZ_BIN) -dict=tests/fuzz/elf.dict $(FUZZ_DIR)/corpus $(FUZZ_DIR)/seed"

# Built by a sub-make so that a build failure is counted as a failure too.
fuzz-smoke:
	@rm -f $(BUILD)/fuzz-counts
	@mkdir -p $(BUILD)
	$(Q)if ! $(MAKE) --no-print-directory fuzz; then echo "0 1" >$(BUILD)/fuzz-counts; \
	  exit 1; fi
	@mkdir -p $(FUZZ_DIR)/corpus $(FUZZ_DIR)/artifacts
	@echo "fuzz-smoke: $(FUZZ_BIN) for $(FUZZ_SMOKE_SECS) s (log: $(FUZZ_DIR)/smoke.log)"
	$(Q)if $(FUZZ_BIN) -max_total_time=$(FUZZ_SMOKE_SECS) -rss_limit_mb=2048 -timeout=10 \
	    -max_len=65536 -dict=tests/fuzz/elf.dict -print_final_stats=1 \
	    -artifact_prefix=$(FUZZ_DIR)/artifacts/ \
	    $(FUZZ_DIR)/corpus $(FUZZ_DIR)/seed >$(FUZZ_DIR)/smoke.log 2>&1; then \
	  echo "1 0" >$(BUILD)/fuzz-counts; \
	  grep -E '^stat::number_of_executed_units|^Done' $(FUZZ_DIR)/smoke.log; \
	  echo "fuzz-smoke: PASS"; \
	else \
	  echo "0 1" >$(BUILD)/fuzz-counts; tail -n 40 $(FUZZ_DIR)/smoke.log; \
	  echo "fuzz-smoke: FAIL (crash input in $(FUZZ_DIR)/artifacts/)"; exit 1; \
	fi

-include $(shell find $(FUZZ_DIR)/obj -name '*.d' 2>/dev/null)
