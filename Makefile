# hotswap - one GNU make build for every module (see DESIGN.md for the layout).
#
#   make            build/libhotswap_preload.so, build/hotswap, examples
#   make check      every test; last line "N passed, N failed"
#   make demo       a legacy server reloaded under load
#   make demo-crash a build that crashes it: named, and the restart serves the last good one
#   make bench      figures, written to build/bench.json
#   make fuzz       libFuzzer targets (clang)
#
# Knobs: WERROR=1, SANITIZE=address,undefined | thread, V=1, BUILD=dir, CC=...
# Each module adds its targets in its own module.mk, included below.

comma := ,
# The release, in one place: `hotswap --version` prints it.
VERSION := 0.5.0
BUILD_DEFAULT := build$(if $(SANITIZE),/san-$(subst $(comma),-,$(SANITIZE)))
BUILD ?= $(BUILD_DEFAULT)
CC ?= cc
CFLAGS ?= -O2 -g

ifeq ($(V),1)
Q :=
msg = @true
else
Q := @
msg = @printf '  %-7s %s\n' $(1) $(2)
endif

WARN := -Wall -Wextra -Wformat=2 -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
        -Wvla -fno-common
SAN_FLAGS := $(if $(SANITIZE),-fsanitize=$(SANITIZE) -fno-omit-frame-pointer \
             -fno-sanitize-recover=all)
BASE_CFLAGS := -std=gnu11 $(WARN) $(if $(filter 1,$(WERROR)),-Werror) $(SAN_FLAGS) \
               -fPIC -Iinclude -I. -MMD -MP
ALL_CFLAGS = $(BASE_CFLAGS) $(CFLAGS)
ALL_LDFLAGS = $(SAN_FLAGS) $(LDFLAGS)

# pkg-config, asked once and only when a recipe needs the answer (so that a missing
# package can be installed by the deps step first).
define lazy-pc
$(1) = $$(eval $(1) := $$$$(shell pkg-config $(2) 2>/dev/null))$$($(1))
endef
$(eval $(call lazy-pc,ELF_CFLAGS,--cflags libelf))
$(eval $(call lazy-pc,ELF_LIBS,--libs libelf))
$(eval $(call lazy-pc,GIT2_CFLAGS,--cflags libgit2))
$(eval $(call lazy-pc,GIT2_LIBS,--libs libgit2))
$(eval $(call lazy-pc,CMOCKA_CFLAGS,--cflags cmocka))
$(eval $(call lazy-pc,CMOCKA_LIBS,--libs cmocka))
$(eval $(call lazy-pc,UNWIND_LIBS,--libs libunwind))

DEPS_OK := $(BUILD)/.deps-ok

# Filled by the module.mk files.
ALL_TARGETS :=
TESTS :=        # programs run by `make check` (cmocka binaries and scripts)
UNIT_TESTS :=   # the subset run again under sanitizers (`make unit`)
TEST_DEPS :=    # files the tests need besides ALL_TARGETS (fixtures)
BENCHES :=      # programs run by `make bench`

.PHONY: all check unit bench demo demo-crash fuzz fuzz-smoke clean deps
all:

include $(sort $(wildcard */module.mk tests/*/module.mk examples/*/module.mk))

all: $(ALL_TARGETS)

deps: $(DEPS_OK)
$(DEPS_OK): scripts/deps.sh
	$(Q)scripts/deps.sh
	@mkdir -p $(@D) && touch $@

check: all $(TESTS) $(TEST_DEPS)
	$(Q)BUILD=$(BUILD) tests/run.sh $(TESTS)

unit: $(UNIT_TESTS) $(TEST_DEPS)
	$(Q)BUILD=$(BUILD) tests/run.sh $(UNIT_TESTS)

demo: all
	$(Q)scripts/demo.sh $(BUILD)

demo-crash: all
	$(Q)scripts/demo-crash.sh $(BUILD)

bench: all $(BENCHES) $(TEST_DEPS)
	$(Q)BUILD=$(BUILD) bench/run.sh $(BENCHES)

clean:
	rm -rf build

# Generic rules; modules add objects to their targets' prerequisites.
$(BUILD)/obj/%.o: %.c | $(DEPS_OK)
	@mkdir -p $(@D)
	$(call msg,CC,$<)
	$(Q)$(CC) $(ALL_CFLAGS) $(EXTRA_CFLAGS) -c $< -o $@

$(BUILD)/obj/%.o: %.S | $(DEPS_OK)
	@mkdir -p $(@D)
	$(call msg,AS,$<)
	$(Q)$(CC) $(ALL_CFLAGS) $(EXTRA_CFLAGS) -c $< -o $@

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
