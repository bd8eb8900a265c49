# loader/: trampolines, generations and the plugin lifecycle, as a static library linked
# into the shim. Every loader/*.c and loader/*.S is part of it.
LOADER_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard loader/*.c)) \
               $(patsubst %.S,$(BUILD)/obj/%.o,$(wildcard loader/*.S))
LOADER_LIB := $(BUILD)/libhotswap_loader.a
$(LOADER_OBJS): EXTRA_CFLAGS += $(ELF_CFLAGS) -fvisibility=hidden

$(LOADER_LIB): $(LOADER_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

ALL_TARGETS += $(LOADER_LIB)

# What a program linking the loader needs after $(LOADER_LIB) on its command line.
LOADER_LINK = $(LOADER_LIB) $(ELF_LIB) $(ELF_LIBS) -ldl -lpthread
