# SPDX-License-Identifier: BSD-3-Clause
# examples/slink: the slink demo (h-slink) - the dog plugin linked statically for debugging
# or dynamically, at the user's choice. The Makefile builds the dynamic host; run.sh
# --static links host.c -DSLINK_STATIC with libdog.a and libhotswap_static.a itself (the
# archive is built at run time); host-static.o here only keeps that variant warning-free.
# test_slink.sh runs both modes.
SLINK_HOST := $(BUILD)/examples/slink/host
$(SLINK_HOST): examples/slink/host.c include/hotswap.h | $(DEPS_OK)
	@mkdir -p $(@D)
	$(call msg,LD,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) $< -o $@

SLINK_HOST_STATIC_OBJ := $(BUILD)/examples/slink/host-static.o
$(SLINK_HOST_STATIC_OBJ): examples/slink/host.c include/hotswap.h include/hotswap_static.h | $(DEPS_OK)
	@mkdir -p $(@D)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -DSLINK_STATIC -c $< -o $@

ALL_TARGETS += $(SLINK_HOST) $(SLINK_HOST_STATIC_OBJ)
TESTS += examples/slink/test_slink.sh
TEST_DEPS += $(STATIC_HOST_LIB)
