# SPDX-License-Identifier: BSD-3-Clause
# hotswap - one GNU make build for every module (see DESIGN.md for the layout).
#
#   make            build/libhotswap_preload.so, build/hotswap, examples
#   make check      every test; last line "N passed, N failed"
#   make demo       a legacy server reloaded under load
#   make demo-crash a build that crashes it: named, and the restart serves the last good one
#   make bench      figures, written to build/bench.json
#   make fuzz       libFuzzer targets (clang)
#
# Knobs: WERROR=1, SANITIZE=address,undefined | thread, V=1, BUILD=dir, CC=...,
#        ARCH=aarch64 (cross build with aarch64-linux-gnu-gcc into build/aarch64; its tests
#        run under qemu-user with `make check-aarch64`)
# Each module adds its targets in its own module.mk, included below.

comma := ,
# The release, in one place: `hotswap --version` prints it.
VERSION := 0.5.0
SOVERSION := 0
# The machine built for: this one's, or ARCH=aarch64 on an x86-64 one (a cross build: the
# compiler and the pkg-config answers of that architecture's Debian multiarch libraries).
HOST_ARCH := $(shell uname -m)
ARCH ?= $(HOST_ARCH)
ifeq ($(filter $(ARCH),x86_64 aarch64),)
$(error ARCH=$(ARCH): hotswap builds for x86_64 and aarch64)
endif
CROSS := $(if $(filter $(ARCH),$(HOST_ARCH)),,$(ARCH)-linux-gnu-)
BUILD_DEFAULT := build$(if $(CROSS),/$(ARCH))$(if $(SANITIZE),/san-$(subst $(comma),-,$(SANITIZE)))
BUILD ?= $(BUILD_DEFAULT)
ifneq ($(CROSS),)
ifeq ($(origin CC),default)
CC := $(CROSS)gcc
endif
PKG_CONFIG ?= PKG_CONFIG_LIBDIR=/usr/lib/$(ARCH)-linux-gnu/pkgconfig:/usr/share/pkgconfig pkg-config
else
CC ?= cc
PKG_CONFIG ?= pkg-config
endif
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
$(1) = $$(eval $(1) := $$$$(shell $(PKG_CONFIG) $(2) 2>/dev/null))$$($(1))
endef
$(eval $(call lazy-pc,ELF_CFLAGS,--cflags libelf))
$(eval $(call lazy-pc,ELF_LIBS,--libs libelf))
$(eval $(call lazy-pc,GIT2_CFLAGS,--cflags libgit2))
$(eval $(call lazy-pc,GIT2_LIBS_PC,--libs libgit2))
# Debian's libgit2-dev is not co-installable for two architectures: a cross build links the
# other architecture's runtime library (libgit2-1.5:arm64) with this one's headers.
GIT2_LIBS = $(or $(GIT2_LIBS_PC),$(if $(CROSS),$(firstword $(wildcard /usr/lib/$(ARCH)-linux-gnu/libgit2.so.*))))
$(eval $(call lazy-pc,CMOCKA_CFLAGS,--cflags cmocka))
$(eval $(call lazy-pc,CMOCKA_LIBS,--libs cmocka))
$(eval $(call lazy-pc,UNWIND_LIBS,--libs libunwind))

# What the goals need (scripts/deps.sh): a plain `make` only the build's packages.
DEPS_PROFILE := $(if $(filter fuzz fuzz-smoke,$(MAKECMDGOALS)),fuzz,$(if $(filter-out all \
                  demo demo-crash install uninstall unit,$(MAKECMDGOALS)),check,$(if \
                  $(filter unit,$(MAKECMDGOALS)),unit,build)))
DEPS_OK := $(BUILD)/.deps-ok-$(DEPS_PROFILE)

# Filled by the module.mk files.
ALL_TARGETS :=
TESTS :=        # programs run by `make check` (cmocka binaries and scripts)
UNIT_TESTS :=   # the subset run again under sanitizers (`make unit`)
TEST_DEPS :=    # files the tests need besides ALL_TARGETS (fixtures)
BENCHES :=      # programs run by `make bench`

.PHONY: all check check-aarch64 check-emulated unit shim-check bench demo demo-crash fuzz fuzz-smoke clean deps install uninstall
all:

include $(sort $(wildcard */module.mk tests/*/module.mk examples/*/module.mk))

all: $(ALL_TARGETS)

# Installs what is missing (apt-get; through sudo when not root). Other goals only check.
deps:
	$(Q)scripts/deps.sh --install all
$(DEPS_OK): scripts/deps.sh
	$(Q)scripts/deps.sh $(DEPS_PROFILE)
	@mkdir -p $(@D) && touch $@

check: all $(TESTS) $(TEST_DEPS)
	$(Q)BUILD=$(BUILD) tests/run.sh $(TESTS)

unit: $(UNIT_TESTS) $(TEST_DEPS)
	$(Q)BUILD=$(BUILD) tests/run.sh $(UNIT_TESTS)

# Only the shim's integration tests (tests/shim/), here against a sanitizer build of the
# daemons and the shim: `make shim-check SANITIZE=address,undefined` (.ci/run does;
# shim_lib.sh puts the runtimes first in LD_PRELOAD and fails a test on any report). Here,
# after every module.mk, so that all of TEST_DEPS is built (make expands a rule's
# prerequisites where it reads it: in tests/shim/module.mk it missed the fault fixtures
# defined below it).
shim-check: all $(TEST_DEPS)
	$(Q)BUILD=$(BUILD) tests/run.sh $(filter tests/shim/%,$(TESTS))

# Everything cross-built for aarch64 into build/aarch64 and run under qemu-user: the unit
# tests (loader, trampolines, ELF checks, lifecycle, API), then, through binfmt_misc
# (scripts/binfmt-aarch64.sh registers qemu-user's entry), the shim's integration tests and
# the examples' (the seed demos; `hotswap build` gets the cross compiler through CC, OBJCOPY
# and AR). Left out there (README, "Architectures"):
EMULATED_SKIP := tests/shim/test_threads.sh
check-aarch64:
	$(Q)scripts/deps.sh aarch64
	$(Q)$(MAKE) --no-print-directory ARCH=aarch64 check-emulated

check-emulated: all $(UNIT_TESTS) $(TEST_DEPS)
	$(Q)scripts/binfmt-aarch64.sh $(BUILD)/hotswap
	$(Q)HOTSWAP_TEST_RUNNER=qemu-$(ARCH)-static BUILD=$(BUILD) CC="$(CC)" \
	  OBJCOPY=$(CROSS)objcopy AR=$(CROSS)ar tests/run.sh $(UNIT_TESTS) \
	  $(filter-out $(EMULATED_SKIP),$(filter tests/shim/% examples/% tests/api/%.sh,$(TESTS)))

demo: all
	$(Q)scripts/demo.sh $(BUILD)

demo-crash: all
	$(Q)scripts/demo-crash.sh $(BUILD)

bench: all $(BENCHES) $(TEST_DEPS)
	$(Q)BUILD=$(BUILD) bench/run.sh $(BENCHES)

clean:
	rm -rf build

# --- make install / make uninstall -------------------------------------------------------
# GNU names and DESTDIR; LIBDIR is multiarch-aware (/usr/local/lib/x86_64-linux-gnu: on
# Debian's default ld.so path). The shim is libhotswap_preload.so.$(SOVERSION) (its SONAME),
# with the development symlink libhotswap_preload.so beside it.
PREFIX ?= /usr/local
MULTIARCH := $(shell $(CC) -print-multiarch 2>/dev/null)
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib$(if $(MULTIARCH),/$(MULTIARCH))
INCLUDEDIR ?= $(PREFIX)/include
DATADIR ?= $(PREFIX)/share
MANDIR ?= $(DATADIR)/man
DOCDIR ?= $(DATADIR)/doc/hotswap
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
COMPLETIONDIR ?= $(DATADIR)/bash-completion/completions
INSTALL ?= install
INSTALLED = $(BINDIR)/hotswap $(LIBDIR)/libhotswap_preload.so.$(VERSION) \
  $(LIBDIR)/libhotswap_preload.so.$(SOVERSION) $(LIBDIR)/libhotswap_preload.so \
  $(LIBDIR)/libhotswap_static.a $(INCLUDEDIR)/hotswap.h $(INCLUDEDIR)/hotswap_static.h \
  $(PKGCONFIGDIR)/hotswap.pc $(MANDIR)/man1/hotswap.1 $(MANDIR)/man3/hotswap.3 \
  $(MANDIR)/man7/hotswap.7 $(COMPLETIONDIR)/hotswap \
  $(addprefix $(DOCDIR)/,$(notdir $(DOC_FILES)))
DOC_FILES = README.md CHANGELOG.md LICENSE docs/DESIGN.md $(wildcard examples/systemd/*.service)

$(BUILD)/hotswap.pc: pkg/hotswap.pc.in Makefile
	$(call msg,GEN,$@)
	$(Q)sed -e 's|@PREFIX@|$(PREFIX)|; s|@LIBDIR@|$(LIBDIR)|; s|@INCLUDEDIR@|$(INCLUDEDIR)|' \
	  -e 's|@VERSION@|$(VERSION)|' $< >$@

install: all $(BUILD)/hotswap.pc
	$(INSTALL) -d $(addprefix $(DESTDIR),$(BINDIR) $(LIBDIR) $(INCLUDEDIR) $(PKGCONFIGDIR) \
	  $(MANDIR)/man1 $(MANDIR)/man3 $(MANDIR)/man7 $(COMPLETIONDIR) $(DOCDIR))
	$(INSTALL) -m 755 $(BUILD)/hotswap $(DESTDIR)$(BINDIR)/hotswap
	$(INSTALL) -m 644 $(PRELOAD_SO) $(DESTDIR)$(LIBDIR)/libhotswap_preload.so.$(VERSION)
	ln -sf libhotswap_preload.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libhotswap_preload.so.$(SOVERSION)
	ln -sf libhotswap_preload.so.$(SOVERSION) $(DESTDIR)$(LIBDIR)/libhotswap_preload.so
	$(INSTALL) -m 644 $(STATIC_HOST_LIB) $(DESTDIR)$(LIBDIR)/libhotswap_static.a
	$(INSTALL) -m 644 include/hotswap.h include/hotswap_static.h $(DESTDIR)$(INCLUDEDIR)/
	$(INSTALL) -m 644 $(BUILD)/hotswap.pc $(DESTDIR)$(PKGCONFIGDIR)/hotswap.pc
	$(INSTALL) -m 644 man/hotswap.1 $(DESTDIR)$(MANDIR)/man1/
	$(INSTALL) -m 644 man/hotswap.3 $(DESTDIR)$(MANDIR)/man3/
	$(INSTALL) -m 644 man/hotswap.7 $(DESTDIR)$(MANDIR)/man7/
	$(INSTALL) -m 644 tools/completion/hotswap.bash $(DESTDIR)$(COMPLETIONDIR)/hotswap
	$(INSTALL) -m 644 $(DOC_FILES) $(DESTDIR)$(DOCDIR)/

# Removes exactly what install put there, then the folders it made that are left empty.
uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	-rmdir -p --ignore-fail-on-non-empty $(addprefix $(DESTDIR),$(DOCDIR) $(PKGCONFIGDIR) \
	  $(MANDIR)/man1 $(MANDIR)/man3 $(MANDIR)/man7 $(COMPLETIONDIR) $(BINDIR) $(INCLUDEDIR)) \
	  2>/dev/null

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
