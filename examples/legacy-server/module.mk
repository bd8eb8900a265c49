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

ALL_TARGETS += $(LEGACY_SERVER) $(LEGACY_LOADGEN) $(LEGACY_HANDLERS)
