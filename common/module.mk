# SPDX-License-Identifier: BSD-3-Clause
# common/: the error table shared by every module.
COMMON_OBJS := $(BUILD)/obj/common/errors.o
$(COMMON_OBJS): EXTRA_CFLAGS += -fvisibility=hidden

# common/shim_rules.h is forced on loader/ and preload/ (their module.mk); this checks it bites.
TESTS += tests/unit/test_shim_rules.sh
