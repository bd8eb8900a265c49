# SPDX-License-Identifier: BSD-3-Clause
# examples/legacy-server: a legacy server linked against libhandler.so (v1), more builds
# of the handler (v2 good; bad ones the shim must refuse: v3 drops handle_stats, v4 wants an
# executable stack, v5's hotswap_on_load fails; v7's on_load waits for a file, to hold a
# reload in progress; v8 passes every check and crashes on one route) and a load generator.
LEGACY_DIR := $(BUILD)/examples/legacy-server
LEGACY_SERVER := $(LEGACY_DIR)/server
LEGACY_LOADGEN := $(LEGACY_DIR)/loadgen
LEGACY_HANDLERS := $(foreach v,1 2 3 4 5 7 8,$(LEGACY_DIR)/v$(v)/libhandler.so)
handler_flags_3 := -DHANDLER_BROKEN
handler_flags_4 := -Wl,-z,execstack
handler_flags_5 := -DHANDLER_ONLOAD_FAIL
handler_flags_7 := -DHANDLER_HOLD
handler_flags_8 := -DHANDLER_CRASH
LEGACY_SRC := examples/legacy-server

$(LEGACY_DIR)/v%/libhandler.so: $(LEGACY_SRC)/handler.c $(LEGACY_SRC)/handler.h | $(DEPS_OK)
	@mkdir -p $(@D)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -shared -Wl,-soname,libhandler.so -DHANDLER_VERSION=$* \
	  $(handler_flags_$*) $< -o $@

$(LEGACY_SERVER): $(LEGACY_SRC)/server.c $(LEGACY_DIR)/v1/libhandler.so | $(DEPS_OK)
	$(call msg,LD,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) $< -L$(LEGACY_DIR)/v1 -lhandler -lpthread -ldl -o $@

# A module the server dlopen()s later; it calls libhandler.so through its own PLT.
LEGACY_MODULE := $(LEGACY_DIR)/libmodule.so
$(LEGACY_MODULE): $(LEGACY_SRC)/module.c $(LEGACY_DIR)/v1/libhandler.so | $(DEPS_OK)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -shared $< -L$(LEGACY_DIR)/v1 -lhandler -o $@ $(ALL_LDFLAGS)

$(LEGACY_LOADGEN): $(LEGACY_SRC)/loadgen.c | $(DEPS_OK)
	@mkdir -p $(@D)
	$(call msg,LD,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) $< -lpthread -o $@

# The same server linked every way a GOT-routing shim must handle (plthook's matrix):
# PIE with lazy binding (gcc's default), -z now with full RELRO, no RELRO, -fno-plt,
# and a classic non-PIE build without -fPIC, lazy and -z now.
LEGACY_LINK_MODES := pie-lazy pie-now pie-norelro pie-noplt nopie-lazy nopie-now
LEGACY_MATRIX := $(foreach m,$(LEGACY_LINK_MODES),$(LEGACY_DIR)/server-$(m))
mode_flags_pie-lazy := -pie -Wl,-z,lazy
mode_flags_pie-now := -pie -Wl,-z,now -Wl,-z,relro
mode_flags_pie-norelro := -pie -Wl,-z,lazy -Wl,-z,norelro
mode_flags_pie-noplt := -pie -fno-plt -Wl,-z,now -Wl,-z,relro
mode_flags_nopie-lazy := -fno-pie -no-pie -Wl,-z,lazy
mode_flags_nopie-now := -fno-pie -no-pie -Wl,-z,now -Wl,-z,relro

$(LEGACY_DIR)/server-%: $(LEGACY_SRC)/server.c $(LEGACY_DIR)/v1/libhandler.so | $(DEPS_OK)
	$(call msg,LD,$@)
	$(Q)$(CC) $(filter-out -fPIC,$(ALL_CFLAGS)) $(mode_flags_$*) $(ALL_LDFLAGS) $< \
	  -L$(LEGACY_DIR)/v1 -lhandler -lpthread -ldl -o $@

ALL_TARGETS += $(LEGACY_SERVER) $(LEGACY_LOADGEN) $(LEGACY_HANDLERS) $(LEGACY_MATRIX) \
               $(LEGACY_MODULE)
