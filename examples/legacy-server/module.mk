# examples/legacy-server: a legacy server linked against libhandler.so (v1), two more
# builds of the handler (v2 good, v3 broken: drops handle_stats) and a load generator.
LEGACY_DIR := $(BUILD)/examples/legacy-server
LEGACY_SERVER := $(LEGACY_DIR)/server
LEGACY_LOADGEN := $(LEGACY_DIR)/loadgen
LEGACY_HANDLERS := $(LEGACY_DIR)/v1/libhandler.so $(LEGACY_DIR)/v2/libhandler.so \
                   $(LEGACY_DIR)/v3/libhandler.so
LEGACY_SRC := examples/legacy-server

$(LEGACY_DIR)/v%/libhandler.so: $(LEGACY_SRC)/handler.c $(LEGACY_SRC)/handler.h | $(DEPS_OK)
	@mkdir -p $(@D)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -shared -Wl,-soname,libhandler.so -DHANDLER_VERSION=$* \
	  $(if $(filter 3,$*),-DHANDLER_BROKEN) $< -o $@

$(LEGACY_SERVER): $(LEGACY_SRC)/server.c $(LEGACY_DIR)/v1/libhandler.so | $(DEPS_OK)
	$(call msg,LD,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) $< -L$(LEGACY_DIR)/v1 -lhandler -lpthread -o $@

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
	  -L$(LEGACY_DIR)/v1 -lhandler -lpthread -o $@

ALL_TARGETS += $(LEGACY_SERVER) $(LEGACY_LOADGEN) $(LEGACY_HANDLERS) $(LEGACY_MATRIX)
