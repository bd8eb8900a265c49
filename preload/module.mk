# SPDX-License-Identifier: BSD-3-Clause
# preload/: libhotswap_preload.so, the shim. Exports only the allowlist in
# preload/exports.map (hotswap_* API and the interposed libc functions).
PRELOAD_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard preload/*.c)) \
                $(patsubst %.S,$(BUILD)/obj/%.o,$(wildcard preload/*_$(ARCH).S))
PRELOAD_SO := $(BUILD)/libhotswap_preload.so
$(PRELOAD_OBJS): EXTRA_CFLAGS += $(ELF_CFLAGS) -fvisibility=hidden
# No exit, abort, assert or stdout in the shim: common/shim_rules.h poisons them.
$(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard preload/*.c)): EXTRA_CFLAGS += -include common/shim_rules.h

$(PRELOAD_SO): $(PRELOAD_OBJS) $(LOADER_LIB) $(ELF_LIB) preload/exports.map
	$(call msg,LD,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -shared -Wl,-soname,libhotswap_preload.so.$(SOVERSION) \
	  -Wl,--version-script=preload/exports.map \
	  -Wl,-z,now -Wl,-z,relro -Wl,-z,noexecstack -o $@ $(PRELOAD_OBJS) \
	  -Wl,--whole-archive $(COMMON_OBJS) -Wl,--no-whole-archive $(LOADER_LINK)

# Its SONAME's name too, for programs linked with -lhotswap_preload run from the build.
$(PRELOAD_SO).$(SOVERSION): $(PRELOAD_SO)
	$(Q)ln -sf $(notdir $<) $@

ALL_TARGETS += $(PRELOAD_SO) $(PRELOAD_SO).$(SOVERSION)

# dl.c answers dlsym()/dlvsym() before any constructor has run: a sanitizer runtime's own
# start-up looks libc up with dlsym(RTLD_NEXT, ...) through the shim's dlsym, before its
# shadow memory exists, so instrumented code there would crash. Until pre_dl_enable() that
# path stays inside dl.c, built without instrumentation (the rest of the shim keeps it).
$(BUILD)/obj/preload/dl.o: EXTRA_CFLAGS += $(if $(SANITIZE),-fno-sanitize=all)
