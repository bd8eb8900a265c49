# SPDX-License-Identifier: BSD-3-Clause
# tests/plugins/: fixture plugins of the lifecycle tests (loader/, h-life), built into
# $(BUILD)/plugins/<name>-v<version>[-<variant>].so from two sources, and the cmocka test
# tests/unit/test_lifecycle.c. The tests copy a fixture to lib<name>.so in a temporary folder
# and replace it there to simulate a new build.
LIFE_FIX := $(BUILD)/plugins

# Fixtures of fx_plugin.c: name-vN[-variant]; name and version come from the file name,
# the rest from FX_<name>, FX_<name>-vN and FX_<name>-vN-variant.
LIFE_FX := alpha-v1 alpha-v2 alpha-v3 beta-v1 beta-v2 gamma-v1 gamma-v2 \
           ord_a-v1 ord_b-v1 ord_c-v1 \
           fl_peer-v1 fl_peer-v2 fl_victim-v1 fl_victim-v2 fl_victim-v2-drop \
           fl_victim-v2-unres fl_victim-v2-unknown fl_victim-v2-onload fl_victim-v2-oninit \
           cyc_a-v1 cyc_b-v1 uk-v1 dup-v1 notedup-v1 same-v1 stat-v1 stat-v2 \
           pin-v1 pin-v2 pinbad-v1 pintarget-v1 lk-v1 lk-v2 lk-v3 lkb-v1 \
           ins-v1 insd-v1 insd-v2 adopt-v2 adoptb-v1 adoptb-v2 adoptn-v1 adoptc-v1
FX_beta := -DFX_IMPORT1=alpha
FX_gamma := -DFX_IMPORT1=beta
FX_ord_a := -DFX_IMPORT1=ord_c
FX_fl_victim-v2-drop := -DFX_DROP_EXTRA
FX_fl_victim-v2-unres := -DFX_UNRESOLVED
FX_fl_victim-v2-unknown := -DFX_IMPORT1=nosuch
FX_fl_victim-v2-onload := -DFX_ONLOAD_RC=-5
FX_fl_victim-v2-oninit := -DFX_ONINIT_RC=-7
FX_cyc_a := -DFX_IMPORT1=cyc_b
FX_cyc_b := -DFX_IMPORT1=cyc_a
FX_uk := -DFX_IMPORT1=nosuch
FX_notedup := -DFX_NOTE_NAME=dup
FX_pin := -DFX_RELOADABLE=0
FX_pinbad := -DFX_RELOADABLE=0 -DFX_IMPORT1=pintarget
FX_lk := -DFX_CALLBACK
FX_lkb := -DFX_CALLBACK
FX_adoptn := -Wl,--build-id=none

# Fixtures of fx_selfbind.c: sbl lazy without RELRO, sbn -z now -z relro, sbp -fno-plt with
# -z now, sbw (GOT walker test: lazy, so it has both kinds) -z relro.
LIFE_SB := sbl-v1 sbl-v2 sbn-v1 sbn-v2 sbp-v1 sbp-v2 sbw-v1
SB_sbl := -Wl,-z,lazy -Wl,-z,norelro
SB_sbn := -Wl,-z,now -Wl,-z,relro
SB_sbp := -fno-plt -Wl,-z,now -Wl,-z,relro
SB_sbw := -Wl,-z,lazy -Wl,-z,relro

# Fixtures of fx_abs.c (a static table of pointers to its own functions): -z relro, lazy.
LIFE_AB := abt-v1 abt-v2

LIFE_FIX_SOS := $(patsubst %,$(LIFE_FIX)/%.so,$(LIFE_FX) $(LIFE_SB) $(LIFE_AB))
# Plain -fPIC builds without sanitizers: a sanitized test program loads them fine.
LIFE_FX_CC = $(CC) -std=gnu11 $(WARN) $(if $(filter 1,$(WERROR)),-Werror) -O2 -g -fPIC \
             -shared -Iinclude
fx_words = $(subst -, ,$(1))
fx_name = $(word 1,$(call fx_words,$(1)))
fx_ver = $(patsubst v%,%,$(word 2,$(call fx_words,$(1))))

$(LIFE_FIX)/sb%.so: tests/plugins/fx_selfbind.c tests/plugins/module.mk | $(DEPS_OK)
	@mkdir -p $(@D)
	$(call msg,CCLD,$@)
	$(Q)$(LIFE_FX_CC) -DSB_NAME=sb$(call fx_name,$*) -DSB_VERSION=$(call fx_ver,$*) \
	  $(SB_sb$(call fx_name,$*)) -o $@ $<

$(LIFE_FIX)/ab%.so: tests/plugins/fx_abs.c tests/plugins/module.mk | $(DEPS_OK)
	@mkdir -p $(@D)
	$(call msg,CCLD,$@)
	$(Q)$(LIFE_FX_CC) -DAB_NAME=ab$(call fx_name,$*) -DAB_VERSION=$(call fx_ver,$*) \
	  -Wl,-z,relro -o $@ $<

$(LIFE_FIX)/%.so: tests/plugins/fx_plugin.c include/hotswap.h tests/plugins/module.mk \
                  | $(DEPS_OK)
	@mkdir -p $(@D)
	$(call msg,CCLD,$@)
	$(Q)$(LIFE_FX_CC) -DFX_NAME=$(call fx_name,$*) -DFX_VERSION=$(call fx_ver,$*) \
	  $(FX_$(call fx_name,$*)) $(FX_$(call fx_name,$*)-v$(call fx_ver,$*)) $(FX_$*) -o $@ $<

LIFE_TEST := $(BUILD)/tests/test_lifecycle
LIFE_TEST_OBJ := $(BUILD)/obj/tests/unit/test_lifecycle.o
$(LIFE_TEST_OBJ): EXTRA_CFLAGS += $(CMOCKA_CFLAGS) -DLIFE_FIXTURE_DIR='"$(abspath $(LIFE_FIX))"'

# -rdynamic: the fixtures call fx_log() in the test program.
$(LIFE_TEST): $(LIFE_TEST_OBJ) $(LOADER_LIB) $(ELF_LIB) | $(DEPS_OK)
	@mkdir -p $(@D)
	$(call msg,LD,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -rdynamic -o $@ $< $(LOADER_LINK) $(CMOCKA_LIBS)

TESTS += $(LIFE_TEST)
UNIT_TESTS += $(LIFE_TEST)
TEST_DEPS += $(LIFE_FIX_SOS)

# tests/unit/test_vault.c (h-vault): revert and the host's extension, and the lifetime of
# vaults over many reloads, on the same fixtures; -rdynamic for fx_log.
VAULT_TEST := $(BUILD)/tests/test_vault
VAULT_TEST_OBJ := $(BUILD)/obj/tests/unit/test_vault.o
$(VAULT_TEST_OBJ): EXTRA_CFLAGS += $(CMOCKA_CFLAGS) -DLIFE_FIXTURE_DIR='"$(abspath $(LIFE_FIX))"'
$(VAULT_TEST): $(VAULT_TEST_OBJ) $(LOADER_LIB) $(ELF_LIB) | $(DEPS_OK)
	@mkdir -p $(@D)
	$(call msg,LD,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -rdynamic -o $@ $< $(LOADER_LINK) $(CMOCKA_LIBS)

TESTS += $(VAULT_TEST)
UNIT_TESTS += $(VAULT_TEST)

# tests/unit/test_adopt.c: a test program linked against a fixture plugin (libadopt.so, in a
# folder of its own, found through the rpath), the way a legacy server is linked against its
# handler library. ld.so loads it before main; the loader adopts it as generation 0. Its
# later builds are the fixtures adopt-v2, adopt-v3 (fx_plugin.c, like the others).
ADOPT_LINK := $(LIFE_FIX)/link
ADOPT_LINK_SO := $(ADOPT_LINK)/libadopt.so
$(ADOPT_LINK_SO): tests/plugins/fx_plugin.c include/hotswap.h tests/plugins/module.mk \
                  | $(DEPS_OK)
	@mkdir -p $(@D)
	$(call msg,CCLD,$@)
	$(Q)$(LIFE_FX_CC) -DFX_NAME=adopt -DFX_VERSION=1 -Wl,-soname,libadopt.so -o $@ $<

ADOPT_TEST := $(BUILD)/tests/test_adopt
ADOPT_TEST_OBJ := $(BUILD)/obj/tests/unit/test_adopt.o
$(ADOPT_TEST_OBJ): EXTRA_CFLAGS += $(CMOCKA_CFLAGS) \
  -DLIFE_FIXTURE_DIR='"$(abspath $(LIFE_FIX))"' -DADOPT_LINK_SO='"$(abspath $(ADOPT_LINK_SO))"'

# A PIE (the compiler's default) linked with -ladopt and an rpath; -rdynamic for fx_log.
$(ADOPT_TEST): $(ADOPT_TEST_OBJ) $(ADOPT_LINK_SO) $(LOADER_LIB) $(ELF_LIB) | $(DEPS_OK)
	@mkdir -p $(@D)
	$(call msg,LD,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -rdynamic -o $@ $< -L$(ADOPT_LINK) -ladopt \
	  -Wl,-rpath,$(abspath $(ADOPT_LINK)) $(LOADER_LINK) $(CMOCKA_LIBS)

TESTS += $(ADOPT_TEST)
UNIT_TESTS += $(ADOPT_TEST)
TEST_DEPS += $(ADOPT_LINK_SO)
