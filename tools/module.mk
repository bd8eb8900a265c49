# SPDX-License-Identifier: BSD-3-Clause
# tools/: the hotswap CLI (build/hotswap), one file per subcommand.
TOOLS_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard tools/*.c))
HOTSWAP_CLI := $(BUILD)/hotswap
$(TOOLS_OBJS): EXTRA_CFLAGS += $(ELF_CFLAGS) $(GIT2_CFLAGS)
$(addprefix $(BUILD)/obj/tools/,main.o cmd_inspect.o): EXTRA_CFLAGS += \
  -DHOTSWAP_VERSION='"$(VERSION)"'
$(addprefix $(BUILD)/obj/tools/,main.o cmd_inspect.o): Makefile

$(HOTSWAP_CLI): $(TOOLS_OBJS) $(ELF_LIB)
	$(call msg,LD,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(TOOLS_OBJS) $(ELF_LIB) $(ELF_LIBS) $(GIT2_LIBS)

ALL_TARGETS += $(HOTSWAP_CLI)
