# elf/: read-only ELF inspection, as a static library linked into the loader, the shim
# and the CLI. Every elf/*.c is part of it.
ELF_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard elf/*.c))
ELF_LIB := $(BUILD)/libhotswap_elf.a
$(ELF_OBJS): EXTRA_CFLAGS += $(ELF_CFLAGS) -fvisibility=hidden

$(ELF_LIB): $(ELF_OBJS) $(COMMON_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^
