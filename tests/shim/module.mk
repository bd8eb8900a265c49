# SPDX-License-Identifier: BSD-3-Clause
# tests/shim: integration tests of libhotswap_preload.so with real processes, signals and
# sockets: the legacy example server under the shim, reloaded by kill and by the CLI.
SHIM_TESTS := $(addprefix tests/shim/,test_reload.sh test_load.sh test_matrix.sh \
                test_process.sh test_notify.sh test_optin.sh)
OPTIN_HOST := $(BUILD)/tests/optin_host
$(OPTIN_HOST): tests/shim/optin_host.c | $(DEPS_OK)
	@mkdir -p $(@D)
	$(call msg,LD,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) $< -o $@
TEST_DEPS += $(OPTIN_HOST)
TESTS += $(SHIM_TESTS)

# --- retirement (h-retire): a handler build the dynamic linker can never unload ----------
RETIRE_NODELETE := $(BUILD)/tests/retire/nodelete/libhandler.so
$(RETIRE_NODELETE): $(LEGACY_SRC)/handler.c $(LEGACY_SRC)/handler.h | $(DEPS_OK)
	@mkdir -p $(@D)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -shared -Wl,-soname,libhandler.so -DHANDLER_VERSION=6 \
	  -Wl,-z,nodelete $< -o $@
TEST_DEPS += $(RETIRE_NODELETE)
TESTS += tests/shim/test_retire.sh
# --- revert (h-retire2) -------------------------------------------------------------------
TESTS += tests/shim/test_revert.sh
# --- h-secure: sigset/bsd_signal/dlvsym interposed, setuid processes stay inert ----------
# tiny_host answers commands on stdin; it installs its SIGHUP handler with the function -s
# names and is linked against a versioned libhandler.so (vhandler) and, in this order,
# libnexta.so and libnextb.so (RTLD_NEXT probes). secure_host is the same program linked
# with the shim itself and an absolute RUNPATH (LD_PRELOAD and LD_LIBRARY_PATH do not reach
# a setuid process): test_secure.sh fills that folder, outside /tmp's mktemp folders that
# user nobody cannot enter, and unique per build folder.
SHIM_T := $(BUILD)/tests/shim
VHANDLERS := $(SHIM_T)/vhandler/v1/libhandler.so $(SHIM_T)/vhandler/v2/libhandler.so
$(SHIM_T)/vhandler/v%/libhandler.so: tests/shim/vhandler.c tests/shim/vhandler.map \
    $(LEGACY_SRC)/handler.c $(LEGACY_SRC)/handler.h | $(DEPS_OK)
	@mkdir -p $(@D)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -shared -Wl,-soname,libhandler.so -DHANDLER_VERSION=$* \
	  -Wl,--version-script=tests/shim/vhandler.map $< -o $@

$(SHIM_T)/tiny/libnext%.so: tests/shim/nextlib.c tests/shim/nextlib.map | $(DEPS_OK)
	@mkdir -p $(@D)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -shared -Wl,-soname,libnext$*.so -DNEXT_NAME='"$*"' \
	  $(if $(filter a,$*),-DNEXT_PROBE) -Wl,--version-script=tests/shim/nextlib.map $< -o $@

TINY_HOST := $(SHIM_T)/tiny/tiny_host
$(TINY_HOST): tests/shim/tiny_host.c $(SHIM_T)/tiny/libnexta.so $(SHIM_T)/tiny/libnextb.so \
    $(SHIM_T)/vhandler/v1/libhandler.so | $(DEPS_OK)
	$(call msg,LD,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -DTINY_LOOKUPS $(ALL_LDFLAGS) $< -Wl,--no-as-needed \
	  -L$(SHIM_T)/tiny -lnexta -lnextb -L$(SHIM_T)/vhandler/v1 -lhandler -ldl \
	  -Wl,-rpath,'$$ORIGIN' -o $@

SECURE_DIR := /var/tmp/hotswap-secure-$(firstword $(shell printf %s '$(abspath $(BUILD))' | cksum))
SECURE_HOST := $(SHIM_T)/secure_host
$(SECURE_HOST): tests/shim/tiny_host.c $(PRELOAD_SO) $(SHIM_T)/vhandler/v1/libhandler.so \
    | $(DEPS_OK)
	$(call msg,LD,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) $< -Wl,--no-as-needed -L$(BUILD) -lhotswap_preload \
	  -L$(SHIM_T)/vhandler/v1 -lhandler -ldl -Wl,--enable-new-dtags \
	  -Wl,-rpath,$(SECURE_DIR)/lib -o $@

TEST_DEPS += $(VHANDLERS) $(TINY_HOST) $(SECURE_HOST)
TESTS += tests/shim/test_interpose.sh tests/shim/test_secure.sh tests/shim/test_sigwait.sh \
  tests/shim/test_closeall.sh
# --- h-threads: retirement with 256 threads under load, and with more than 4096
TESTS += tests/shim/test_threads.sh
# --- h-eintr: the stack check must not interrupt threads blocked in system calls --------
# eintr_host installs no signal handler and counts the EINTRs its blocked threads see; it is
# linked against the legacy example's libhandler.so (v1), which test_eintr.sh reloads.
EINTR_HOST := $(SHIM_T)/eintr/eintr_host
$(EINTR_HOST): tests/shim/eintr_host.c $(LEGACY_DIR)/v1/libhandler.so | $(DEPS_OK)
	@mkdir -p $(@D)
	$(call msg,LD,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) $< -L$(LEGACY_DIR)/v1 -lhandler -lpthread -o $@
TEST_DEPS += $(EINTR_HOST)
TESTS += tests/shim/test_eintr.sh
# --- state carried across reloads (issue 11) -----------------------------------------------
# libstate.so, written like legacy code, in six builds (see its header), and one host linked
# against build 1 three times: as a PIE and as a non-PIE executable (on x86-64 both
# copy-relocate state_limit; -fPIE/-fno-PIE come after the -fPIC of ALL_CFLAGS, so they win),
# and as a PIE that reaches state_limit through its GOT (GLOB_DAT, no copy: what every
# AArch64 PIE does, and x86-64 with -mno-direct-extern-access).
STATE_T := $(SHIM_T)/state
STATE_BUILDS := v1 v1b v2 v3 v4 v5
STATE_SOS := $(foreach b,$(STATE_BUILDS),$(STATE_T)/$(b)/libstate.so)
state_defs = -DSTATE_VERSION=$(subst b,,$(subst v,,$(1))) $(if $(findstring b,$(1)),-DSTATE_REBUILD)
$(STATE_T)/%/libstate.so: tests/shim/state/libstate.c | $(DEPS_OK)
	@mkdir -p $(@D)
	$(call msg,CCLD,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(call state_defs,$*) -shared -Wl,-soname,libstate.so $< \
	  $(ALL_LDFLAGS) -o $@
STATE_HOSTS := $(STATE_T)/state_host_pie $(STATE_T)/state_host_nopie $(STATE_T)/state_host_got
$(STATE_T)/state_host_got: tests/shim/state/state_host.c $(STATE_T)/v1/libstate.so | $(DEPS_OK)
	$(call msg,LD,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -fPIE -pie $(if $(filter x86_64,$(ARCH)),-mno-direct-extern-access) \
	  $(ALL_LDFLAGS) $< -L$(STATE_T)/v1 -lstate -lpthread -o $@
$(STATE_T)/state_host_pie: tests/shim/state/state_host.c $(STATE_T)/v1/libstate.so | $(DEPS_OK)
	$(call msg,LD,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -fPIE -pie $(ALL_LDFLAGS) $< -L$(STATE_T)/v1 -lstate -lpthread -o $@
$(STATE_T)/state_host_nopie: tests/shim/state/state_host.c $(STATE_T)/v1/libstate.so | $(DEPS_OK)
	$(call msg,LD,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -fno-PIE -no-pie $(ALL_LDFLAGS) $< -L$(STATE_T)/v1 -lstate \
	  -lpthread -o $@
TEST_DEPS += $(STATE_SOS) $(STATE_HOSTS)
TESTS += tests/shim/test_state.sh
TESTS += tests/shim/test_operator.sh
TESTS += tests/shim/test_crash.sh tests/shim/test_demo_crash.sh

# test_holders.sh: libholder.so in two builds, libkeep.so, and holder_host linked to both.
HOLDER_T := $(SHIM_T)/holder
HOLDER_LIBS := $(HOLDER_T)/v1/libholder.so $(HOLDER_T)/v2/libholder.so
$(HOLDER_T)/v%/libholder.so: tests/shim/holder_lib.c tests/shim/holder.h | $(DEPS_OK)
	@mkdir -p $(@D)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -shared -DHOLDER_V=$* -Wl,-soname,libholder.so $< -o $@
$(HOLDER_T)/libkeep.so: tests/shim/holder_keep.c tests/shim/holder.h | $(DEPS_OK)
	@mkdir -p $(@D)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -shared -Wl,-soname,libkeep.so $< -o $@
HOLDER_HOST := $(HOLDER_T)/holder_host
$(HOLDER_HOST): tests/shim/holder_host.c tests/shim/holder.h $(HOLDER_T)/libkeep.so $(HOLDER_T)/v1/libholder.so | $(DEPS_OK)
	$(call msg,LD,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) $< -L$(HOLDER_T) -lkeep -L$(HOLDER_T)/v1 -lholder \
	  -lpthread -Wl,-rpath,'$$ORIGIN' -o $@
TEST_DEPS += $(HOLDER_LIBS) $(HOLDER_HOST)
TESTS += tests/shim/test_holders.sh

# --- issue 13: bad builds never take the daemon down (tests/shim/faults.tsv lists them) ----
FAULT_CASES := $(shell awk -F'\t' '!/^\#/ && NF {print $$1}' tests/shim/faults.tsv)
FAULT_HANDLERS := $(foreach c,$(FAULT_CASES),$(SHIM_T)/faults/$(c)/libhandler.so)
$(SHIM_T)/faults/%/libhandler.so: $(LEGACY_SRC)/handler.c $(LEGACY_SRC)/handler.h \
    tests/shim/faults.tsv | $(DEPS_OK)
	@mkdir -p $(@D)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -shared -Wl,-soname,libhandler.so -DHANDLER_VERSION=2 \
	  -DHANDLER_FAULT='"$(subst -,:,$*)"' $< -o $@
TEST_DEPS += $(FAULT_HANDLERS)
TESTS += tests/shim/test_faults.sh
# --- issue 16: the example systemd units, run with a fake NOTIFY_SOCKET -------------------
TESTS += tests/shim/test_units.sh
# --- the fleet rollout example (examples/rollout/rollout.yml) against two local daemons ----
TESTS += tests/shim/test_rollout.sh
